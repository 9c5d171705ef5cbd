// `spyglass-cli eval-image`: the shape-scene model's measured quality (spyglass/image_evaluation.h).
#include "cli/commands.h"
#include "cli/common_options.h"

#include "spyglass/atomic_write.h"
#include "spyglass/image_evaluation.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>

namespace spyglass::cli {

int runEvalImage(const std::vector<std::string>& args)
{
    ArgParser parser(
        "eval-image",
        "--model DIR [--prompts N] [--steps N] [--guidance G] [--seed S] [--training-combinations] [--out eval.json]");
    parser.addOption("model", "DIR", "a shape-scene model (spyglass-cli train-image)");
    parser.addOption("prompts", "N", "prompts to generate (default 60)");
    parser.addOption("steps", "N", "denoising steps (default 20)");
    parser.addOption("guidance", "G", "guidance scale (default 5)");
    parser.addOption("seed", "S", "first seed (default 1)");
    parser.addFlag("training-combinations", "use combinations seen in training instead of held-out ones");
    parser.addOption("out", "FILE", "write the result as JSON (default: stdout)");
    addRuntimeOptions(parser);
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout << parser.helpText()
                  << "\nGenerates held-out prompts, reads shape, colour, size, place and background back with OpenCV,\n"
                     "and measures how much of the shape and colour words' DAAM heat falls on the object.\n";
        return 0;
    }
    core::ImageEvalOptions o;
    o.prompts = parser.intValue("prompts", 60);
    o.steps = parser.intValue("steps", 20);
    o.guidance = parser.doubleValue("guidance", 5.0);
    o.seed = static_cast<uint64_t>(parser.intValue("seed", 1));
    o.heldOut = !parser.has("training-combinations");
    const std::string device = applyRuntimeOptions(parser);
    auto model = core::DiffusionModel::load(parser.required("model"), device);
    const core::ImageEvalResult r = core::evaluateImageModel(*model, o, [](const core::Progress& p) {
        logProgress(p.stage + " " + std::to_string(p.done) + "/" + std::to_string(p.total));
        return true;
    });
    nlohmann::json samples = nlohmann::json::array();
    for (const auto& s : r.samples)
        samples.push_back({{"prompt", s.prompt},
                           {"found", s.found},
                           {"shape", s.readShape},
                           {"color", s.readColor},
                           {"size", s.readSize},
                           {"position", s.readPosition}});
    const nlohmann::json j{{"prompts", r.prompts},
                           {"combinations", o.heldOut ? "held out of training" : "seen in training"},
                           {"steps", o.steps},
                           {"guidance", o.guidance},
                           {"accuracy",
                            {{"object_found", r.found},
                             {"shape", r.shape},
                             {"color", r.color},
                             {"size", r.size},
                             {"position", r.position},
                             {"background", r.background},
                             {"everything", r.all}}},
                           {"heatmaps",
                            {{"shape_word_heat_inside_object", r.shapeHeatInside},
                             {"color_word_heat_inside_object", r.colorHeatInside},
                             {"object_share_of_image", r.objectArea}}},
                           {"samples", samples}};
    if (auto out = parser.value("out")) {
        core::writeFileAtomically(*out, j.dump(2) + "\n");
        logProgress("wrote " + *out, true);
    } else {
        std::cout << j.dump(2) << '\n';
    }
    return 0;
}

}  // namespace spyglass::cli
