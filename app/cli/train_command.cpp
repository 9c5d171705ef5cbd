#include "cli/commands.h"
#include "cli/common_options.h"

#include "spyglass/error.h"
#include "spyglass/runtime.h"
#include "spyglass/trainer.h"

#include <cstdio>
#include <iostream>

namespace spyglass::cli {

int runTrain(const std::vector<std::string>& args)
{
    ArgParser parser("train", "(--recipe FILE | --out DIR) [options]");
    parser.addOption("recipe", "FILE", "recipe JSON (keys as the options below, snake_case)");
    parser.addOption("out", "DIR", "output model folder (overrides the recipe's out_dir)");
    parser.addOption("prose", "FILE", "public-domain prose, one passage per line");
    parser.addOption("steps", "N", "optimizer steps");
    parser.addOption("batch-size", "N", "sequences per step");
    parser.addOption("layers", "N", "transformer blocks");
    parser.addOption("width", "N", "model width (n_embd)");
    parser.addOption("heads", "N", "attention heads");
    parser.addOption("context", "N", "context length");
    parser.addOption("vocab-size", "N", "BPE vocabulary size (incl. 256 bytes and <|endoftext|>)");
    parser.addOption("corpus-tokens", "N", "tokens of built-in corpus to generate");
    parser.addOption("learning-rate", "X", "peak learning rate (AdamW, warmup + cosine decay)");
    parser.addOption("seed", "S", "seed for everything");
    addRuntimeOptions(parser, /*withDevice=*/false);
    parser.addFlag("resume", "continue from <out>/checkpoint/ when it exists");
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout
            << parser.helpText()
            << "\nTrains a byte-level BPE tokenizer (every digit its own token) and a GPT-2 on the built-in corpus\n"
               "(counting, addition, lists, birth-year facts, multi-line and bracketed text, prose), and writes a\n"
               "Hugging Face folder: config.json, model.safetensors, tokenizer.json, recipe.json, training_log.tsv.\n";
        return 0;
    }
    core::TrainConfig c =
        parser.has("recipe") ? core::TrainConfig::fromFile(*parser.value("recipe")) : core::TrainConfig{};
    if (auto out = parser.value("out")) c.outDir = *out;
    if (auto prose = parser.value("prose")) c.proseFile = *prose;
    c.steps = parser.intValue("steps", c.steps);
    c.batchSize = parser.intValue("batch-size", c.batchSize);
    c.layers = parser.intValue("layers", c.layers);
    c.width = parser.intValue("width", c.width);
    c.heads = parser.intValue("heads", c.heads);
    c.contextLength = parser.intValue("context", c.contextLength);
    c.vocabSize = parser.intValue("vocab-size", c.vocabSize);
    c.corpusTokens = parser.intValue("corpus-tokens", static_cast<int>(c.corpusTokens));
    c.learningRate = parser.doubleValue("learning-rate", c.learningRate);
    c.seed = static_cast<uint64_t>(parser.intValue("seed", static_cast<int>(c.seed)));
    if (c.outDir.empty()) throw UsageError("'train' needs --out or a recipe with out_dir");
    (void)applyRuntimeOptions(parser);
    std::string lastStage;
    core::train(
        c,
        [&](const core::TrainProgress& p) {
            if (p.stage != "training") {
                if (p.stage != lastStage) std::cerr << "spyglass-cli: " << p.stage << "…\n";
                lastStage = p.stage;
                return true;
            }
            char line[256];
            const double eta = p.step > 0 ? p.elapsedSeconds / p.step * (p.steps - p.step) : 0;
            const int width = 30, filled = p.steps ? width * p.step / p.steps : 0;
            std::snprintf(line, sizeof line, "\r[%-*s] %d/%d loss %.3f val %.3f lr %.2e %.0f tok/s eta %.0f s ", width,
                          std::string(static_cast<size_t>(filled), '#').c_str(), p.step, p.steps, p.loss,
                          p.validationLoss, p.learningRate, p.tokensPerSecond, eta);
            std::cerr << line << std::flush;
            return true;
        },
        parser.has("resume"));
    std::cerr << "\nspyglass-cli: wrote " << c.outDir.string() << '\n';
    return 0;
}

}  // namespace spyglass::cli
