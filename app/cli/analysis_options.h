#pragma once
// The analysis options of `analyze` and `batch` (--max-new-tokens … --seed, --contrast-with and
// --continuation excepted): declared on a parser and read back as core::AnalysisOptions.
#include "cli/arg_parser.h"

#include "spyglass/analysis.h"

namespace spyglass::cli {

void addAnalysisOptions(ArgParser& parser);
// Throws UsageError naming the flag for a malformed value.
[[nodiscard]] core::AnalysisOptions analysisOptions(const ArgParser& parser);

}  // namespace spyglass::cli
