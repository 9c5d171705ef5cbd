#include "cli/analysis_options.h"
#include "cli/commands.h"
#include "cli/common_options.h"
#include "cli/intervention_options.h"

#include "spyglass/analysis.h"
#include "spyglass/atomic_write.h"
#include "spyglass/error.h"
#include "spyglass/language_model.h"
#include "spyglass/report_json.h"

#include <iostream>
#include <optional>

namespace spyglass::cli {

int runAnalyze(const std::vector<std::string>& args)
{
    ArgParser parser("analyze", "--model PATH --prompt T|--ids 1,2,3 [options] --out report.json");
    addModelOptions(parser);
    parser.addOption("prompt", "T", "prompt text");
    parser.addOption("ids", "1,2,3",
                     "prompt as token ids, used verbatim (no BOS added): for models without tokenizer files");
    addAnalysisOptions(parser);
    parser.addOption("contrast-with", "TOKEN",
                     "contrastive saliency: explain target(token) − target(TOKEN) (\"why X rather than TOKEN\"; "
                     "text of one token or #ID)");
    parser.addOption("continuation", "TEXT",
                     "forced decoding: explain the tokens of TEXT instead of the model's own (ignores "
                     "--max-new-tokens)");
    parser.addOption("continuation-ids", "1,2,3", "forced decoding on token ids");
    addInterventionOptions(parser);
    parser.addOption("diff", "FILE",
                     "with --ablate/--steer: also run without them and write what they changed (spyglass.diff/1: "
                     "both texts, first diverging token, Δ log-prob of each original token, Δ saliency, Δ lens)");
    parser.addFlag("save-loadings", "also write the factor loadings to <out>.loadings.safetensors");
    parser.addOption("out", "FILE", "report JSON to write (spyglass.report/1)");
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout << parser.helpText()
                  << "\nGenerates (greedily unless --temperature is given) and writes every section of the report:\n"
                     "saliency rows for each generated token, the logit lens, activation factors and\nthe 2-D map. "
                     "Progress goes to stderr.\n";
        return 0;
    }
    const std::string modelPath = parser.required("model");
    if (parser.has("prompt") == parser.has("ids")) throw UsageError("give --prompt or --ids (exactly one)");
    const std::string prompt = parser.value("prompt").value_or("");
    const std::optional<std::vector<int>> ids =
        parser.has("ids") ? std::optional(parseIds(*parser.value("ids"), "ids")) : std::nullopt;
    if (ids && parser.has("diff")) throw UsageError("--diff needs --prompt (the baseline run is made from text)");
    const std::string outPath = parser.required("out");
    core::AnalysisOptions o = analysisOptions(parser);
    const std::string device = applyRuntimeOptions(parser);

    auto model = core::LanguageModel::load(modelPath, loadOptions(parser, device));
    if (parser.has("contrast-with"))
        o.contrastWith = singleToken(*model, *parser.value("contrast-with"), "--contrast-with");
    if (parser.has("continuation") && parser.has("continuation-ids"))
        throw UsageError("give --continuation or --continuation-ids, not both");
    if (auto text = parser.value("continuation")) {
        o.continuation = model->encode(*text);
        const auto& bos = model->info().bosId;
        if (!o.continuation.empty() && bos && o.continuation.front() == *bos)
            o.continuation.erase(o.continuation.begin());
        if (o.continuation.empty()) throw UsageError("--continuation: the text has no tokens");
    }
    if (auto ids = parser.value("continuation-ids")) o.continuation = parseIds(*ids, "continuation-ids");
    const size_t interventions = applyInterventions(parser, *model);
    core::validateAnalysisOptions(o, model->info());
    const auto progress = [](const core::Progress& p) {
        logProgress(p.stage + (p.total > 1 ? " " + std::to_string(p.done) + "/" + std::to_string(p.total) : ""));
        return true;
    };
    core::Report report;
    if (auto diffPath = parser.value("diff")) {
        if (interventions == 0)
            throw UsageError("--diff needs --ablate or --steer (what to compare with the baseline)");
        core::InterventionEffect effect = core::analyzeInterventionEffect(*model, prompt, o, progress);
        core::writeFileAtomically(*diffPath, core::runDiffJson(effect.diff) + "\n");
        logProgress("wrote " + *diffPath, true);
        report = std::move(effect.edited);
    } else {
        report = ids ? core::analyzeIds(*model, *ids, o, progress) : core::analyze(*model, prompt, o, progress);
    }
    if (parser.has("save-loadings") && report.factors) {
        const std::string loadings = outPath + ".loadings.safetensors";
        core::writeFactorLoadings(report, loadings);
        report.factors->loadingsFile = std::filesystem::path(loadings).filename().string();
    }
    if (const std::string note = core::contextLimitNote(report, model->info(), o.maxNewTokens); !note.empty())
        logProgress(note, true);
    core::writeReport(report, outPath);
    logProgress("wrote " + outPath, true);
    return 0;
}

}  // namespace spyglass::cli
