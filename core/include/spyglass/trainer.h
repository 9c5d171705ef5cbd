#pragma once
// The default-model trainer: a byte-level BPE tokenizer and a GPT-2 trained from scratch in
// libtorch on the built-in corpus, written as a Hugging Face folder that LanguageModel loads.
//
//   TrainConfig c = TrainConfig::fromFile("resources/models/spyglass-counting/recipe.json");
//   train(c, [](const TrainProgress& p) { std::cerr << p.step << ' ' << p.loss << '\n'; return true; });
//
// Seeded and reproducible (same recipe, same machine → same weights); checkpoints every
// `checkpointEvery` steps and resumes from the last one. Thread safety: one training per process.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

namespace spyglass::core {

struct TrainConfig {
    std::filesystem::path outDir;
    std::string proseFile;  // lines of public-domain prose (empty: no prose documents)
    // Tokenizer and model
    int vocabSize = 2048;
    int tokenizerDocuments = 20000;  // documents sampled to train the BPE
    int layers = 6, heads = 8, width = 256, contextLength = 256;
    // Corpus
    int64_t corpusTokens = 4'000'000;  // tokens generated up front; batches are windows into them
    std::map<std::string, double> taskWeights{{"counting", 3},  {"addition", 3}, {"lists", 1.5}, {"facts", 1.5},
                                              {"multiline", 1}, {"brackets", 1}, {"prose", 3}};
    int additionMaxDigits = 3;
    int countingMaxStart = 150;
    // Optimisation
    int batchSize = 16;
    int steps = 2000;
    double learningRate = 1e-3;
    double minLearningRateRatio = 0.1;  // cosine decay to this fraction of the peak
    int warmupSteps = 100;
    double weightDecay = 0.1;
    double gradientClip = 1.0;
    uint64_t seed = 1234;
    int checkpointEvery = 100;
    int validationEvery = 100;
    bool saveHalf = true;  // model.safetensors in F16 (training runs in F32)

    // Reads a recipe JSON; keys are the snake_case names of the fields; unknown keys are errors.
    static TrainConfig fromFile(const std::filesystem::path& file);
    [[nodiscard]] std::string toJson() const;
};

struct TrainProgress {
    std::string stage;  // "tokenizer", "corpus", "training"
    int step = 0, steps = 0;
    double loss = 0, validationLoss = 0, learningRate = 0, tokensPerSecond = 0, elapsedSeconds = 0;
};

// Returns the output folder. Resumes from `outDir/checkpoint/` when `resume` and it exists.
// Throws Error on bad settings, Cancelled when `progress` returns false (after saving a checkpoint).
std::filesystem::path train(const TrainConfig& config, const std::function<bool(const TrainProgress&)>& progress,
                            bool resume);

}  // namespace spyglass::core
