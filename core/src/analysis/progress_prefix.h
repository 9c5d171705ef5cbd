#pragma once
// A run inside a larger one (the baseline of an intervention comparison, side A of an A/B): its
// progress goes to the caller's callback with the stage named after the run ("baseline: lens").
#include "spyglass/progress.h"

#include <string>

namespace spyglass::core {

inline ProgressCallback prefixedProgress(const ProgressCallback& progress, const std::string& run)
{
    if (!progress) return {};
    return [progress, run](const Progress& p) { return progress({run + ": " + p.stage, p.done, p.total}); };
}

}  // namespace spyglass::core
