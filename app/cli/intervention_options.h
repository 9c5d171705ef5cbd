#pragma once
// The intervention options of the language-model subcommands (generate, trace, analyze, patch):
// --ablate SPEC and --steer L:FILE:ALPHA (both repeatable), --factors-from REPORT.json, and
// token arguments given as text or #id.
#include "cli/arg_parser.h"

#include "spyglass/language_model.h"

#include <string>

namespace spyglass::cli {

void addInterventionOptions(ArgParser& parser);
// Parses the specs, resolves factor:K against --factors-from and reads steering vectors, then
// sets them on `model` (which validates them against its shape). Returns how many were set.
size_t applyInterventions(const ArgParser& parser, core::LanguageModel& model);
// One token (core::tokenArgument): "#123" or the text of one token; errors name `option`.
[[nodiscard]] int singleToken(const core::LanguageModel& model, const std::string& text, const std::string& option);

}  // namespace spyglass::cli
