#pragma once
// RunDiff — what interventions changed in a run: the baseline (no interventions) against the run
// with them, free (the text side by side, the first diverging token) and forced along the
// baseline's own tokens (Δ log-prob of each original token, Δ saliency, Δ lens), all as
// edited − baseline. JSON `spyglass.diff/1` (docs/report-format.md).
//
//   RunDiff d = diffRuns(baseline, edited, forced);   // forced: edited model, baseline's tokens
//   if (d.firstDivergence) mark(*d.firstDivergence);
//
// Torch-free value types; thread safety: value types.
#include "spyglass/report.h"

#include <optional>
#include <string>
#include <vector>

namespace spyglass::core {

struct SaliencyDelta {
    SaliencyMethod method = SaliencyMethod::GradXInput;
    std::vector<int> positions;             // the explained token of each row (index into tokens)
    std::vector<std::vector<float>> delta;  // per row: Δ score at positions 0 … position−1
};

struct RunDiff {
    std::vector<std::string> interventions;  // the edited run's settings.interventions
    std::vector<ReportToken> prompt;
    std::vector<ReportToken> baseline, edited;  // the generated tokens of each free run
    std::optional<int> firstDivergence;         // index into the generated tokens; none: same tokens
    // Per token the baseline generated: log p under the baseline and under the interventions
    // (forced along the baseline's tokens), and their difference.
    std::vector<float> baselineLogProb, editedLogProb, deltaLogProb;
    std::vector<SaliencyDelta> saliency;  // per method both runs have
    std::vector<std::string> lensLayers;  // empty when a run has no lens
    // [layer][position]: Δ probability of the next token (tokens[p+1]) read at that layer; NaN at
    // the last position.
    std::vector<std::vector<float>> lensDeltaProb;
    std::vector<std::vector<int>> lensBaselineRank, lensEditedRank;  // 0 at the last position
};

// Throws Error when `forced` is not the baseline's token sequence, or the runs' prompts differ.
[[nodiscard]] RunDiff diffRuns(const Report& baseline, const Report& edited, const Report& forced);

[[nodiscard]] std::string runDiffJson(const RunDiff& diff);

// The baseline and edited texts (generated part), "·" between tokens where a tokenizer is absent.
[[nodiscard]] std::string generatedText(const std::vector<ReportToken>& tokens);

}  // namespace spyglass::core
