#pragma once
// AnalysisOptions as a JSON object, every field (docs/serve-protocol.md, method "analyze"): how the
// app sends a run's options to a remote `spyglass-cli serve`.
//
//   std::string j = analysisOptionsToJson(options);
//   AnalysisOptions again = analysisOptionsFromJson(j, "request 3");   // == options
//
// The reader keeps the default of a missing member and ignores unknown ones (newer clients); a
// member of the wrong type, an unknown method or mode name, or text that is not a JSON object
// throws Error naming `source` and the member. Range checks stay with validateAnalysisOptions().
// Thread safety: pure functions.
#include "spyglass/analysis.h"

#include <string>

namespace spyglass::core {

[[nodiscard]] std::string analysisOptionsToJson(const AnalysisOptions& options);
[[nodiscard]] AnalysisOptions analysisOptionsFromJson(const std::string& json, const std::string& source);

}  // namespace spyglass::core
