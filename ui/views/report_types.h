#pragma once
// ReportPtr — how reports travel in the UI: shared, immutable once published, safe to hand to
// another thread (a session writer) while the views keep showing it. ReportUpdate crosses from
// the inference thread to the GUI thread in queued signals.
#include "spyglass/prompt_comparison.h"
#include "spyglass/report.h"
#include "spyglass/report_update.h"
#include "spyglass/run_diff.h"

#include <QMetaType>

#include <memory>

namespace spyglass::ui {

using ReportPtr = std::shared_ptr<const core::Report>;
// What a run's interventions changed (null: the run had none).
using RunDiffPtr = std::shared_ptr<const core::RunDiff>;
// Two prompts side by side (A/B).
using ComparisonPtr = std::shared_ptr<const core::PromptComparison>;

}  // namespace spyglass::ui

Q_DECLARE_METATYPE(spyglass::ui::ReportPtr)
Q_DECLARE_METATYPE(spyglass::ui::RunDiffPtr)
Q_DECLARE_METATYPE(spyglass::ui::ComparisonPtr)
Q_DECLARE_METATYPE(spyglass::core::SaliencyRow)
Q_DECLARE_METATYPE(spyglass::core::ReportUpdate)
