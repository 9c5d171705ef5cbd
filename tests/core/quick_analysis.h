#pragma once
// Analysis options that exercise every section and every saliency method quickly on the tiny
// fixture models (3 new tokens, 8 integrated-gradient steps, one extra NMF seed).
#include "spyglass/analysis.h"

namespace spyglass::test {

inline core::AnalysisOptions everyMethodQuickly()
{
    core::AnalysisOptions o;
    o.maxNewTokens = 3;
    const auto all = core::allValues<core::SaliencyMethod>();
    o.saliencyMethods.assign(all.begin(), all.end());
    o.integratedGradientSteps = 8;
    o.factorStabilitySeeds = 1;
    return o;
}

}  // namespace spyglass::test
