#pragma once
// ServeAnalyzer — the typed "analyze" method of `spyglass-cli serve` (docs/serve-protocol.md): the
// app's Remote (SSH) device sends a run's prompt and options (core::analysisOptionsToJson) and gets
// the report back. Unlike "run", the model stays loaded between requests (a GPU server's big model
// loads once per session). Thread safety: one caller at a time (serve's request loop).
#include "spyglass/language_model.h"
#include "spyglass/progress.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace spyglass::cli {

struct ServedReport {
    std::string reportJson;  // spyglass.report/1
    std::string notice;      // e.g. "stopped at the model's context window …"; empty when none
};

class ServeAnalyzer {
public:
    // params: {"model": path, "prompt": text, "options"?: {…}, "device"?: "auto" (CUDA when the server has it; the
    // default) | "cpu" | "cuda[:N]", "threads"?: n}. Throws UsageError for malformed params, else as core::analyze().
    ServedReport run(const nlohmann::json& params, const std::string& source, const core::ProgressCallback& progress);

private:
    std::unique_ptr<core::LanguageModel> m_model;
    std::string m_key;  // model path and device of m_model
};

}  // namespace spyglass::cli
