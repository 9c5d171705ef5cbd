// `spyglass-cli aggregate DIR --out summary.json|csv`: merges the reports of a folder (a batch's
// --out-dir, however many processes wrote it) into dataset-level tables (spyglass/report_summary.h).
#include "cli/commands.h"
#include "cli/common_options.h"

#include "spyglass/atomic_write.h"
#include "spyglass/error.h"
#include "spyglass/report_json.h"
#include "spyglass/report_summary.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace spyglass::cli {

int runAggregate(const std::vector<std::string>& args)
{
    ArgParser parser("aggregate", "DIR --out summary.json|summary.csv");
    parser.addOption("out", "FILE", "summary to write: JSON (spyglass.summary/1) or CSV by the suffix");
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout << parser.helpText()
                  << "\nReads every report (*.json but *.error.json) of DIR and writes: the mean saliency share by\n"
                     "context-token class (digit, punctuation, space, word, other) and of the first token, the\n"
                     "factors' k, relative error and stability, and a histogram of the first lens layer that ranks\n"
                     "the real next token first.\n";
        return 0;
    }
    if (parser.positionals().size() != 1) throw UsageError("'aggregate' needs one folder of reports");
    const std::filesystem::path dir = parser.positionals().front();
    const std::string out = parser.required("out");
    std::vector<std::string> skipped;
    const core::DatasetSummary summary = core::summarizeFolder(dir, &skipped);
    for (const auto& reason : skipped) logProgress("skipped " + reason, true);
    const bool csv = out.size() >= 4 && out.compare(out.size() - 4, 4, ".csv") == 0;
    core::writeFileAtomically(out, csv ? core::summaryCsv(summary) : core::summaryJson(summary) + "\n");
    logProgress("wrote " + out + " from " + std::to_string(summary.reports) + " reports" +
                    (skipped.empty() ? "" : " (" + std::to_string(skipped.size()) + " unreadable skipped)"),
                true);
    return 0;
}

}  // namespace spyglass::cli
