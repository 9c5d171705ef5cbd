#include "cli/commands.h"
#include "cli/common_options.h"
#include "cli/intervention_options.h"

#include "spyglass/error.h"
#include "spyglass/language_model.h"
#include "spyglass/safetensors.h"

#include <iostream>

namespace spyglass::cli {

int runTrace(const std::vector<std::string>& args)
{
    ArgParser parser("trace", "--model PATH (--prompt T | --ids 1,2,3) --out FILE.safetensors");
    addModelOptions(parser);
    parser.addOption("prompt", "T", "prompt text (tokenized with the model's tokenizer)");
    parser.addOption("ids", "1,2,3", "prompt as token ids, used verbatim");
    parser.addOption("out", "FILE", "safetensors file to write");
    addInterventionOptions(parser);
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout << parser.helpText()
                  << "\nWrites F32 tensors (input_ids is I64): input_ids [T], logits [T,V], resid_pre.i, attn_out.i,\n"
                     "mlp_out.i, resid_post.i [T,D], mlp_act.i [T,F], attn_pattern.i [H,T,T], final_norm_out and\n"
                     "ln_f_out [T,D], for i = 0 … n_layer-1.\n";
        return 0;
    }
    const std::string modelPath = parser.required("model");
    const std::string outPath = parser.required("out");
    if (parser.has("prompt") == parser.has("ids")) throw UsageError("'trace' needs exactly one of --prompt and --ids");
    const std::string device = applyRuntimeOptions(parser);
    auto model = core::LanguageModel::load(modelPath, loadOptions(parser, device));
    applyInterventions(parser, *model);
    const std::vector<int> ids =
        parser.has("ids") ? parseIds(*parser.value("ids"), "ids") : model->encode(*parser.value("prompt"));
    const auto tensors = model->trace(ids, core::kCaptureAll);
    core::SafetensorsWriter writer;
    writer.addInt64("input_ids", std::vector<int64_t>(ids.begin(), ids.end()));
    for (const auto& [name, tensor] : tensors) writer.addFloat(name, tensor);
    if (const auto it = tensors.find("final_norm_out"); it != tensors.end()) writer.addFloat("ln_f_out", it->second);
    writer.setMetadata("model", model->info().path.string());
    writer.setMetadata("architecture", model->info().architecture);
    std::string specs;
    for (const auto& i : model->interventions()) specs += (specs.empty() ? "" : " ") + core::formatIntervention(i);
    if (!specs.empty()) writer.setMetadata("interventions", specs);
    writer.write(outPath);
    logProgress("wrote " + std::to_string(tensors.size() + 2) + " tensors to " + outPath, true);
    return 0;
}

}  // namespace spyglass::cli
