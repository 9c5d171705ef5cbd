#include "cli/commands.h"
#include "cli/common_options.h"

#include "spyglass/error.h"
#include "spyglass/evaluation.h"
#include "spyglass/language_model.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace spyglass::cli {

int runEval(const std::vector<std::string>& args)
{
    ArgParser parser("eval", "--model PATH [--prose FILE] [--trials N] [--seed S]");
    addModelOptions(parser);
    parser.addOption("prose", "FILE", "prose file the model was trained with: its last 5% of lines are held out");
    parser.addOption("trials", "N", "problems per counting/addition metric (default 100)");
    parser.addOption("max-digits", "N", "addition is measured up to this many digits (default 5)");
    parser.addOption("seed", "S", "seed for the problems (default 7)");
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout << parser.helpText()
                  << "\nPrints {\"metrics\":[{\"name\", \"value\", \"trials\", \"example\"}…]}: counting, addition by "
                     "digits,\n"
                     "list and birth-year recall (accuracies, greedy decoding) and held-out prose perplexity.\n";
        return 0;
    }
    const std::string modelPath = parser.required("model");
    const std::string device = applyRuntimeOptions(parser);
    core::EvalOptions o;
    o.proseFile = parser.value("prose").value_or("");
    o.trials = parser.intValue("trials", 100);
    o.maxDigits = parser.intValue("max-digits", 5);
    o.seed = static_cast<uint64_t>(parser.intValue("seed", 7));
    if (o.trials < 1) throw UsageError("--trials must be at least 1");
    auto model = core::LanguageModel::load(modelPath, loadOptions(parser, device));
    const auto metrics = core::evaluate(*model, o, [](const core::Progress& p) {
        logProgress("eval " + std::to_string(p.done));
        return true;
    });
    nlohmann::json out;
    out["model"] = modelPath;
    out["metrics"] = nlohmann::json::array();
    for (const auto& m : metrics)
        out["metrics"].push_back(
            {{"name", m.name}, {"value", m.value}, {"trials", m.trials}, {"example", core::sanitizeUtf8(m.example)}});
    std::cout << out.dump(2) << '\n';
    return 0;
}

}  // namespace spyglass::cli
