#pragma once
// Training the tiny Stable-Diffusion-architecture image model on synthetic shape scenes
// (spyglass/shape_scenes.h): a CLIP-style text encoder with the real CLIP tokenizer, a UNet with
// cross-attention at two resolutions, and a small VAE decoder whose latents are the image
// average-pooled 2x (a fixed encoder). Saved as a diffusers folder the engine loads like any other.
//
//   ImageTrainConfig c; c.tokenizer = "tests/fixtures/sd-tiny-random/tokenizer"; c.minutes = 55;
//   trainImageModel(c, "resources/models/spyglass-shapes", progress);
//
// Thread safety: runs on the calling thread.
#include "spyglass/progress.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace spyglass::core {

struct ImageTrainConfig {
    std::filesystem::path tokenizer;  // a CLIP tokenizer folder (vocab.json, merges.txt), copied into the model
    int imageSize = 32;
    int textWidth = 64;
    int textLayers = 2;
    int textHeads = 4;
    std::vector<int> unetChannels{32, 64};
    int unetHeads = 4;
    int vaeSteps = 600;  // decoder pre-training steps
    int batchSize = 32;
    int steps = 20000;    // UNet + text encoder steps (stops earlier at `minutes`)
    double minutes = 55;  // wall-clock budget for the UNet stage
    double learningRate = 4e-4;
    int warmupSteps = 200;
    double emaDecay = 0.999;
    double promptDropout = 0.1;  // empty prompt, for classifier-free guidance
    uint64_t seed = 1;
    bool saveHalf = true;  // F16 weights
    int logEvery = 50;
    int saveEvery = 1000;              // write the folder every N steps (a run cut short keeps its model)
    std::filesystem::path resumeFrom;  // continue from a model this trainer wrote (same sizes; fresh optimizer)
};

struct ImageTrainResult {
    int steps = 0;
    double finalLoss = 0;  // mean of the last log window
    double seconds = 0;
};

// Throws Error naming the file for bad inputs; Cancelled when `progress` returns false.
ImageTrainResult trainImageModel(const ImageTrainConfig& config, const std::filesystem::path& outDir,
                                 const ProgressCallback& progress = {});

}  // namespace spyglass::core
