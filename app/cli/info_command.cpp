#include "cli/commands.h"
#include "cli/common_options.h"

#include "spyglass/language_model.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace spyglass::cli {

int runInfo(const std::vector<std::string>& args)
{
    ArgParser parser("info", "--model PATH");
    addModelOptions(parser);
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout << parser.helpText()
                  << "\nPrints the model's family and parameters: {\"architecture\", \"n_layer\", …}.\n";
        return 0;
    }
    const std::string modelPath = parser.required("model");
    auto model = core::LanguageModel::load(modelPath, loadOptions(parser, applyRuntimeOptions(parser)));
    const core::ModelInfo& i = model->info();
    nlohmann::json out = {{"path", i.path.string()},   {"architecture", i.architecture},    {"n_layer", i.layerCount},
                          {"n_head", i.headCount},     {"d_model", i.modelWidth},           {"d_mlp", i.mlpWidth},
                          {"vocab_size", i.vocabSize}, {"context_length", i.contextLength}, {"device", i.device}};
    out["eos_token_id"] = i.eosId ? nlohmann::json(*i.eosId) : nlohmann::json();
    out["bos_token_id"] = i.bosId ? nlohmann::json(*i.bosId) : nlohmann::json();
    out["tokenizer"] = model->tokenizer() ? nlohmann::json(model->tokenizer()->source()) : nlohmann::json();
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    return 0;
}

}  // namespace spyglass::cli
