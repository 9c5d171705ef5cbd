#pragma once
// ServeAnalyzer — the language-model methods of `spyglass-cli serve` (docs/serve-protocol.md) that
// the app's Remote (SSH) device uses: "analyze" (a run's prompt and options, core::
// analysisOptionsToJson, → the report), "section" (the factors or the 2-D map of a report
// recomputed with other options → the report) and "attention" (one token's attention over its
// context → a float32 tensor). Unlike "run", the model stays loaded between requests (a GPU
// server's big model loads once per session). Thread safety: one caller at a time (serve's loop).
#include "cli/cached_model.h"

#include "spyglass/host_tensor.h"
#include "spyglass/language_model.h"
#include "spyglass/progress.h"
#include "spyglass/report_update.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace spyglass::cli {

struct ServedReport {
    std::string reportJson;     // spyglass.report/1
    std::string notice;         // e.g. "stopped at the model's context window …"; empty when none
    core::HostTensor loadings;  // the factors' loadings (not in the JSON): payload "loadings"
    // With interventions and params.diff: the run without them and the interventions forced along
    // its tokens (core::analyzeInterventionEffect), from which the client computes the RunDiff.
    std::string baselineJson, forcedJson;
};

class ServeAnalyzer {
public:
    // Every method's params: {"model": path, "device"?: "auto" (CUDA when the server has it; the
    // default) | "cpu" | "cuda[:N]", "threads"?: n, …}; each throws UsageError for malformed
    // params, else as the engine does.
    // analyze: + {"prompt": text, "options"?: {…}, "stream"?: bool, "diff"?: bool}; with stream each
    // stage goes to `stages` as it is computed (core::ReportUpdate: the app shows the run live);
    // with diff and interventions in the options the baseline and forced runs come too.
    ServedReport analyze(const nlohmann::json& params, const std::string& source,
                         const core::ProgressCallback& progress,
                         const std::function<void(const core::ReportUpdate&)>& stages = {});
    // section: + {"section": "factors" | "projection", "options": {…}}, and the report whose section
    // to recompute as the request's payload "report.json" (or as params.report, an object).
    ServedReport section(const nlohmann::json& params, const std::vector<std::pair<std::string, std::string>>& payloads,
                         const std::string& source, const core::ProgressCallback& progress);
    // attention: + {"ids": [token ids], "position": p, "interventions"?: [specs]} → [layers, heads, p + 1].
    core::HostTensor attention(const nlohmann::json& params, const core::ProgressCallback& progress);
    // compare: + {"prompt_a", "prompt_b", "options"?: {…}} → core::comparisonToWire (Compare A/B).
    std::string compare(const nlohmann::json& params, const std::string& source,
                        const core::ProgressCallback& progress);
    // patch: + {"clean", "corrupt" (prompts of equal token length), "answer", "wrong" (one token
    // each: text or "#ID"), "site"?: "resid_pre" | "attn_out" | "mlp_out" | "head",
    // "interventions"?: [specs]} → core::patchResultJson with the prompts' token texts, the two
    // tokens' ids and texts and the architecture.
    std::string patch(const nlohmann::json& params, const core::ProgressCallback& progress);

private:
    core::LanguageModel& model(const nlohmann::json& params, const char* method,
                               const core::ProgressCallback& progress);

    CachedModel<core::LanguageModel> m_model;  // by model path and device
};

}  // namespace spyglass::cli
