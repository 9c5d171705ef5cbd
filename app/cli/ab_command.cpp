// `spyglass-cli ab`: two prompts analysed with the same settings, aligned token by token, with
// factors fitted on both together (spyglass.ab/1), optionally both reports.
#include "cli/analysis_options.h"
#include "cli/commands.h"
#include "cli/common_options.h"
#include "cli/intervention_options.h"

#include "spyglass/analysis.h"
#include "spyglass/atomic_write.h"
#include "spyglass/error.h"
#include "spyglass/language_model.h"
#include "spyglass/report_json.h"

#include <filesystem>
#include <iostream>

namespace spyglass::cli {

int runAb(const std::vector<std::string>& args)
{
    ArgParser parser("ab", "--model PATH --prompt-a A --prompt-b B [options] --out ab.json");
    addModelOptions(parser);
    parser.addOption("prompt-a", "T", "the first prompt");
    parser.addOption("prompt-b", "T", "the second prompt");
    addAnalysisOptions(parser);
    addInterventionOptions(parser);
    parser.addOption("reports", "DIR", "also write both reports there (a.json, b.json)");
    parser.addOption("out", "FILE", "comparison JSON to write (spyglass.ab/1)");
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout << parser.helpText()
                  << "\nRuns both prompts with identical settings (saliency and lens), aligns their tokens by the\n"
                     "longest common subsequence of token texts, and fits NMF factors on both runs' MLP\n"
                     "activations together, so factor k is the same on both sides. `render` draws it.\n";
        return 0;
    }
    const std::string modelPath = parser.required("model");
    const std::string a = parser.required("prompt-a");
    const std::string b = parser.required("prompt-b");
    const std::string outPath = parser.required("out");
    core::AnalysisOptions o = analysisOptions(parser);
    o.projection = false;
    const std::string device = applyRuntimeOptions(parser);
    auto model = core::LanguageModel::load(modelPath, loadOptions(parser, device));
    applyInterventions(parser, *model);
    const core::PromptComparison c = core::comparePrompts(*model, a, b, o, [](const core::Progress& p) {
        logProgress(p.stage + (p.total > 1 ? " " + std::to_string(p.done) + "/" + std::to_string(p.total) : ""));
        return true;
    });
    if (auto dir = parser.value("reports")) {
        std::filesystem::create_directories(*dir);
        core::writeReport(c.a, std::filesystem::path(*dir) / "a.json");
        core::writeReport(c.b, std::filesystem::path(*dir) / "b.json");
    }
    core::writeFileAtomically(outPath, core::promptComparisonJson(c) + "\n");
    logProgress("wrote " + outPath, true);
    return 0;
}

}  // namespace spyglass::cli
