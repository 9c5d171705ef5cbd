// `spyglass-cli train-image`: the tiny shape-scene image model (spyglass/image_trainer.h).
#include "cli/commands.h"
#include "cli/common_options.h"

#include "spyglass/image_trainer.h"
#include "spyglass/runtime.h"

#include <iostream>

namespace spyglass::cli {

int runTrainImage(const std::vector<std::string>& args)
{
    ArgParser parser("train-image", "--tokenizer DIR --out DIR [--minutes M] [--steps N] [--seed S]");
    parser.addOption("tokenizer", "DIR", "CLIP tokenizer folder (vocab.json, merges.txt), copied into the model");
    parser.addOption("out", "DIR", "diffusers folder to write (the model is saved every --save-every steps)");
    parser.addOption("minutes", "M", "wall-clock budget of the UNet stage (default 55)");
    parser.addOption("steps", "N", "UNet steps at most (default 20000)");
    parser.addOption("vae-steps", "N", "VAE decoder steps (default 600)");
    parser.addOption("batch", "N", "batch size (default 32)");
    parser.addOption("save-every", "N", "save the model every N steps (default 1000)");
    parser.addOption("seed", "S", "seed (default 1)");
    parser.addOption("resume", "DIR",
                     "continue training a model written by train-image (use --vae-steps 0 to keep its VAE)");
    parser.addOption("learning-rate", "X", "peak learning rate (default 4e-4)");
    addRuntimeOptions(parser, /*withDevice=*/false);
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout
            << parser.helpText()
            << "\nTrains a Stable-Diffusion-architecture model on synthetic scenes: a coloured circle, square or\n"
               "triangle, small or big, in one of five places, optionally striped, on a dark or white background,\n"
               "with magic chunks (masterpiece, 8k, …) appended at random so that they carry no information.\n";
        return 0;
    }
    core::ImageTrainConfig c;
    c.tokenizer = parser.required("tokenizer");
    const std::string out = parser.required("out");
    c.minutes = parser.doubleValue("minutes", 55);
    c.steps = parser.intValue("steps", 20000);
    c.vaeSteps = parser.intValue("vae-steps", 600);
    c.batchSize = parser.intValue("batch", 32);
    c.saveEvery = parser.intValue("save-every", 1000);
    c.seed = static_cast<uint64_t>(parser.intValue("seed", 1));
    c.resumeFrom = parser.value("resume").value_or("");
    c.learningRate = parser.doubleValue("learning-rate", 4e-4);
    if (c.steps < 1 || c.batchSize < 1 || c.vaeSteps < 0 || c.saveEvery < 1)
        throw UsageError("--steps, --batch and --save-every must be positive");
    (void)applyRuntimeOptions(parser);
    const core::ImageTrainResult r = core::trainImageModel(c, out, [](const core::Progress& p) {
        logProgress(p.stage + " " + std::to_string(p.done) + "/" + std::to_string(p.total));
        return true;
    });
    logProgress("trained " + std::to_string(r.steps) + " steps in " + std::to_string(static_cast<int>(r.seconds)) +
                    " s, loss " + std::to_string(r.finalLoss) + "; wrote " + out,
                true);
    return 0;
}

}  // namespace spyglass::cli
