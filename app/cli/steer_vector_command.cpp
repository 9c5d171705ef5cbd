#include "cli/commands.h"
#include "cli/common_options.h"

#include "spyglass/error.h"
#include "spyglass/report_json.h"
#include "spyglass/steering.h"

#include <fstream>
#include <iostream>

namespace spyglass::cli {

int runSteerVector(const std::vector<std::string>& args)
{
    ArgParser parser("steer-vector",
                     "--model PATH (--layer L --positive FILE --negative FILE | --factor K --factors-from R.json) "
                     "--out V.safetensors");
    addModelOptions(parser);
    parser.addOption("layer", "L", "the residual stream resid_pre.L to read");
    parser.addOption("positive", "FILE", "prompts, one per line, whose mean the vector points towards");
    parser.addOption("negative", "FILE", "prompts, one per line, whose mean the vector points away from");
    parser.addOption("factor", "K",
                     "instead: the unit direction NMF factor K of --factors-from writes into the residual");
    parser.addOption("factors-from", "REPORT", "the report JSON whose factors --factor refers to");
    parser.addOption("out", "FILE", "safetensors file to write (tensor 'vector' [d_model])");
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout << parser.helpText()
                  << "\nv = mean of resid_pre.L over every position of the positive prompts − the same over the\n"
                     "negative ones; or, with --factor K, Σ over the factor's layers of its loadings · W_down, unit\n"
                     "length. Use it with --steer L:V.safetensors:ALPHA (generate, trace, analyze, patch).\n";
        return 0;
    }
    const std::string modelPath = parser.required("model");
    const std::string outPath = parser.required("out");
    if (parser.has("factor")) {
        if (parser.has("positive") || parser.has("negative"))
            throw UsageError("give --factor or --positive/--negative, not both");
        const std::string reportPath = parser.required("factors-from");
        const core::Report report = core::readReport(reportPath);
        if (!report.factors) throw UsageError("--factors-from " + reportPath + ": the report has no factors section");
        const int k = parser.intValue("factor", 0);
        const std::string device = applyRuntimeOptions(parser);
        auto model = core::LanguageModel::load(modelPath, loadOptions(parser, device));
        core::writeSteeringVector(core::factorDirectionVector(*model, *report.factors, k), outPath,
                                  "unit direction NMF factor " + std::to_string(k) + " of " + reportPath +
                                      " writes into the residual stream, model " + model->info().path.string());
        logProgress("wrote " + outPath, true);
        return 0;
    }
    const int layer = parser.intValue("layer", -1);
    auto readLines = [&](const std::string& option) {
        const std::string path = parser.required(option);
        std::vector<std::string> lines;
        std::ifstream in(path, std::ios::binary);
        if (!in) throw UsageError("--" + option + " " + path + ": cannot be read");
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) lines.push_back(line);
        if (lines.empty()) throw UsageError("--" + option + " " + path + ": no prompts (one per line)");
        return lines;
    };
    const auto positive = readLines("positive"), negative = readLines("negative");
    const std::string device = applyRuntimeOptions(parser);
    auto model = core::LanguageModel::load(modelPath, loadOptions(parser, device));
    const auto vector = core::meanDifferenceVector(*model, layer, positive, negative);
    core::writeSteeringVector(vector, outPath,
                              "mean resid_pre." + std::to_string(layer) + " of " + std::to_string(positive.size()) +
                                  " positive minus " + std::to_string(negative.size()) + " negative prompts, model " +
                                  model->info().path.string());
    logProgress("wrote " + outPath, true);
    return 0;
}

}  // namespace spyglass::cli
