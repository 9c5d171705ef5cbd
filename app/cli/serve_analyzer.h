#pragma once
// ServeAnalyzer — the language-model methods of `spyglass-cli serve` (docs/serve-protocol.md) that
// the app's Remote (SSH) device uses: "analyze" (a run's prompt and options, core::
// analysisOptionsToJson, → the report), "section" (the factors or the 2-D map of a report
// recomputed with other options → the report) and "attention" (one token's attention over its
// context → a float32 tensor). Unlike "run", the model stays loaded between requests (a GPU
// server's big model loads once per session). Thread safety: one caller at a time (serve's loop).
#include "spyglass/host_tensor.h"
#include "spyglass/language_model.h"
#include "spyglass/progress.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace spyglass::cli {

struct ServedReport {
    std::string reportJson;  // spyglass.report/1
    std::string notice;      // e.g. "stopped at the model's context window …"; empty when none
};

class ServeAnalyzer {
public:
    // Every method's params: {"model": path, "device"?: "auto" (CUDA when the server has it; the
    // default) | "cpu" | "cuda[:N]", "threads"?: n, …}; each throws UsageError for malformed
    // params, else as the engine does.
    // analyze: + {"prompt": text, "options"?: {…}}.
    ServedReport analyze(const nlohmann::json& params, const std::string& source,
                         const core::ProgressCallback& progress);
    // section: + {"section": "factors" | "projection", "options": {…}}, and the report whose section
    // to recompute as the request's payload "report.json" (or as params.report, an object).
    ServedReport section(const nlohmann::json& params, const std::vector<std::pair<std::string, std::string>>& payloads,
                         const std::string& source, const core::ProgressCallback& progress);
    // attention: + {"ids": [token ids], "position": p, "interventions"?: [specs]} → [layers, heads, p + 1].
    core::HostTensor attention(const nlohmann::json& params, const core::ProgressCallback& progress);

private:
    core::LanguageModel& model(const nlohmann::json& params, const char* method,
                               const core::ProgressCallback& progress);

    std::unique_ptr<core::LanguageModel> m_model;
    std::string m_key;  // model path and device of m_model
};

}  // namespace spyglass::cli
