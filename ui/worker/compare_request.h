#pragma once
// CompareRequest — one A/B run of the Compare A/B tab: two prompts with the same analysis options
// (core::comparePrompts); the result comes back as a ComparisonPtr.
#include "spyglass/analysis.h"
#include "views/report_types.h"

#include <QString>

namespace spyglass::ui {

struct CompareRequest {
    quint64 id = 0;
    QString modelPath;
    QString device = QStringLiteral("cpu");
    int threads = 1;
    QString promptA, promptB;
    core::AnalysisOptions options;
};

}  // namespace spyglass::ui
