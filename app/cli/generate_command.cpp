#include "cli/commands.h"
#include "cli/common_options.h"
#include "cli/intervention_options.h"

#include "spyglass/error.h"
#include "spyglass/language_model.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace spyglass::cli {

int runGenerate(const std::vector<std::string>& args)
{
    ArgParser parser("generate", "--model PATH (--prompt T | --ids 1,2,3) [options]");
    addModelOptions(parser);
    parser.addOption("prompt", "T", "prompt text (tokenized with the model's tokenizer)");
    parser.addOption("ids", "1,2,3", "prompt as token ids, used verbatim (no BOS added)");
    parser.addOption("max-new-tokens", "N", "tokens to generate (default 20)");
    parser.addOption("temperature", "X", "sampling temperature; 0 or absent: greedy (argmax)");
    parser.addOption("top-k", "K", "sample only from the K most likely tokens (default off)");
    parser.addOption("top-p", "P", "sample from the smallest set with probability ≥ P (default 1: off)");
    parser.addOption("seed", "S", "random seed for sampling (default 0)");
    parser.addFlag("no-kv-cache", "recompute the whole sequence every step (slower; for checks)");
    addInterventionOptions(parser);
    parser.addFlag("json", "print {\"prompt_ids\", \"generated_ids\", \"text\"} instead of the text");
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout << parser.helpText() << "\nPrints the generated continuation (without the prompt).\n";
        return 0;
    }
    const std::string modelPath = parser.required("model");
    if (parser.has("prompt") == parser.has("ids"))
        throw UsageError("'generate' needs exactly one of --prompt and --ids");
    core::SamplingOptions sampling;
    sampling.maxNewTokens = parser.intValue("max-new-tokens", 20);
    sampling.temperature = static_cast<float>(parser.doubleValue("temperature", 0.0));
    sampling.topK = parser.intValue("top-k", 0);
    sampling.topP = static_cast<float>(parser.doubleValue("top-p", 1.0));
    const long long seed = parser.intValue("seed", 0);
    if (seed < 0) throw UsageError("--seed must be ≥ 0");
    sampling.seed = static_cast<uint64_t>(seed);
    sampling.useKvCache = !parser.has("no-kv-cache");
    if (sampling.maxNewTokens < 0) throw UsageError("--max-new-tokens must be ≥ 0");
    const std::string device = applyRuntimeOptions(parser);

    auto model = core::LanguageModel::load(modelPath, loadOptions(parser, device));
    applyInterventions(parser, *model);
    const std::vector<int> prompt =
        parser.has("ids") ? parseIds(*parser.value("ids"), "ids") : model->encode(*parser.value("prompt"));
    const auto result = model->generate(prompt, sampling, [](const core::Progress& p) {
        logProgress(p.stage + " " + std::to_string(p.done) + "/" + std::to_string(p.total));
        return true;
    });
    const core::Tokenizer* tokenizer = model->tokenizer();
    if (parser.has("json")) {
        nlohmann::json out;
        out["prompt_ids"] = result.promptIds;
        out["generated_ids"] = result.generatedIds;
        out["text"] =
            tokenizer ? nlohmann::json(core::sanitizeUtf8(tokenizer->decodeAfter(prompt.back(), result.generatedIds)))
                      : nlohmann::json();
        out["stopped_at_eos"] = result.stoppedAtEos;
        out["stopped_at_context_limit"] = result.stoppedAtContextLimit;
        if (!model->interventions().empty()) {
            std::vector<std::string> specs;
            for (const auto& i : model->interventions()) specs.push_back(core::formatIntervention(i));
            out["interventions"] = specs;
        }
        std::cout << out.dump() << '\n';
    } else if (tokenizer) {
        std::cout << tokenizer->decodeAfter(prompt.back(), result.generatedIds) << '\n';
    } else {
        for (size_t i = 0; i < result.generatedIds.size(); ++i) std::cout << (i ? "," : "") << result.generatedIds[i];
        std::cout << '\n';
    }
    if (result.stoppedAtContextLimit)
        logProgress(
            "stopped at the model's context window (" + std::to_string(model->info().contextLength) + " tokens)", true);
    return 0;
}

}  // namespace spyglass::cli
