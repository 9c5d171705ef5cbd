#include "cli/commands.h"
#include "cli/common_options.h"
#include "cli/intervention_options.h"

#include "spyglass/atomic_write.h"
#include "spyglass/error.h"
#include "spyglass/patching.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace spyglass::cli {

int runPatch(const std::vector<std::string>& args)
{
    ArgParser parser("patch",
                     "--model PATH (--clean T --corrupt T | --clean-ids IDS --corrupt-ids IDS) --answer A --wrong W "
                     "[--site resid_pre|attn_out|mlp_out|head] --out F.json");
    addModelOptions(parser);
    parser.addOption("clean", "TEXT", "the clean prompt");
    parser.addOption("corrupt", "TEXT", "the corrupt prompt (the same number of tokens)");
    parser.addOption("clean-ids", "1,2,3", "the clean prompt as token ids");
    parser.addOption("corrupt-ids", "1,2,3", "the corrupt prompt as token ids");
    parser.addOption("answer", "TOKEN", "the clean run's answer (text of one token or #ID)");
    parser.addOption("wrong", "TOKEN", "the corrupt run's answer (text of one token or #ID)");
    parser.addOption("site", "SITE", "resid_pre (default), attn_out, mlp_out or head (layers × heads)");
    parser.addOption("batch", "N", "patched runs per forward pass (default 64)");
    parser.addOption("out", "FILE", "JSON to write (spyglass.patch/1)");
    addInterventionOptions(parser);
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout
            << parser.helpText()
            << "\nActivation patching: each (layer, position) of the site — for head, each (layer, head) at\n"
               "every position — takes the clean run's value inside the corrupt run. m = logit[answer] −\n"
               "logit[wrong] at the last position; effect = (m − m_corrupt) / (m_clean − m_corrupt).\n"
               "Writes {\"site\", \"layers\", \"positions\" (head: \"heads\"), \"metric\", \"effect\": [[…]], …}.\n";
        return 0;
    }
    const std::string modelPath = parser.required("model");
    const std::string outPath = parser.required("out");
    if (parser.has("clean") == parser.has("clean-ids")) throw UsageError("give exactly one of --clean and --clean-ids");
    if (parser.has("corrupt") == parser.has("corrupt-ids"))
        throw UsageError("give exactly one of --corrupt and --corrupt-ids");
    core::PatchOptions options;
    options.site = core::parsePatchSite(parser.value("site").value_or("resid_pre"));
    options.batch = parser.intValue("batch", 64);
    const std::string device = applyRuntimeOptions(parser);
    auto model = core::LanguageModel::load(modelPath, loadOptions(parser, device));
    applyInterventions(parser, *model);
    const auto clean = parser.has("clean-ids") ? parseIds(*parser.value("clean-ids"), "clean-ids")
                                               : model->encode(*parser.value("clean"));
    const auto corrupt = parser.has("corrupt-ids") ? parseIds(*parser.value("corrupt-ids"), "corrupt-ids")
                                                   : model->encode(*parser.value("corrupt"));
    options.answer = singleToken(*model, parser.required("answer"), "--answer");
    options.wrong = singleToken(*model, parser.required("wrong"), "--wrong");
    const core::PatchResult result =
        core::patchActivations(*model, clean, corrupt, options, [](const core::Progress& p) {
            logProgress(p.stage + " layer " + std::to_string(p.done) + "/" + std::to_string(p.total));
            return true;
        });
    nlohmann::ordered_json extra;
    extra["model"] = model->info().path.string();
    extra["clean_ids"] = clean;
    extra["corrupt_ids"] = corrupt;
    extra["answer"] = options.answer;
    extra["wrong"] = options.wrong;
    std::vector<std::string> specs;
    for (const auto& i : model->interventions()) specs.push_back(core::formatIntervention(i));
    extra["interventions"] = specs;
    core::writeFileAtomically(outPath, core::patchResultJson(result, extra.dump()) + "\n");
    logProgress("wrote " + outPath, true);
    return 0;
}

}  // namespace spyglass::cli
