#pragma once
// DiffusionModel — a Stable Diffusion 1.x/2.x pipeline loaded from a diffusers folder (or an SD 1.x
// single-file checkpoint), generating
// images natively in libtorch with every cross-attention map of the down and up blocks recorded,
// and DAAM heatmaps (per token, per word) built from them. The torch-free face of the engine.
//
//   auto sd = DiffusionModel::load("models/sd-tiny");
//   DiffusionOptions o; o.prompt = "a photo of a hand"; o.steps = 20; o.seed = 1;
//   DiffusionResult r = sd->generate(o, progress);
//   HostTensor maps = r.heatmaps.wordMaps;              // [words, h, w] at the latent grid
//
// Thread safety: one thread at a time per model (the app's inference thread owns it).
#include "spyglass/host_tensor.h"
#include "spyglass/progress.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spyglass::core {

struct DiffusionInfo {
    std::filesystem::path path;
    std::string scheduler;  // the folder's scheduler class
    int textWidth = 0;      // CLIP hidden size (SDXL: both encoders' together)
    bool sdxl = false;      // two text encoders, pooled embeddings and size/crop conditioning
    int textLayers = 0;
    int latentChannels = 4;
    int sampleSize = 64;           // UNet latent size the model was trained at
    int vaeScaleFactor = 8;        // pixels per latent
    int crossAttentionLayers = 0;  // recorded for DAAM (down and up blocks)
    std::string device;
};

struct DiffusionOptions {
    std::string prompt;
    std::string negativePrompt;
    int steps = 20;
    double guidance = 7.5;  // classifier-free guidance when > 1
    // Empty: the folder's scheduler. A name of spyglass/scheduler_names.h (ddim, euler,
    // euler_karras, euler_a, dpmpp_2m, dpmpp_2m_karras, pndm, a diffusers class name, or an A1111
    // sampler name such as "DPM++ 2M Karras"): that class built from the folder's
    // scheduler_config.json (diffusers from_config). schedulerConfig: a config file whose
    // _class_name chooses the class (overrides `scheduler`). timestepSpacing: leading | linspace |
    // trailing replaces the config's (e.g. "trailing" for few-step models); empty keeps it.
    std::string scheduler;
    std::filesystem::path schedulerConfig;
    std::string timestepSpacing;
    uint64_t seed = 0;
    std::optional<HostTensor> initLatents;  // [1, C, h, w] unscaled N(0,1) noise; replaces the seed's
    int width = 0;                          // pixels, a multiple of 8 (0: the model's size)
    int height = 0;
    bool heatmaps = true;        // record cross-attention (DAAM)
    bool promptWeights = false;  // read "(word:1.2)" / "(word)" / "[word]" emphasis (spyglass/prompt_weights.h)
    // A1111's "Clip skip": 1 uses the text encoder's last layer, N the output N − 1 layers before it
    // (through the final layer norm, as A1111 does).
    int clipSkip = 1;
    // SDXL's size conditioning (add_time_ids): the original size (0: the image's) and the crop's
    // top-left corner; the target size is the image's.
    int originalWidth = 0, originalHeight = 0, cropLeft = 0, cropTop = 0;
    int previewEvery = 0;  // decode a preview every N steps (0: never)
};

// One recorded cross-attention layer.
struct HeatmapLayer {
    std::string name;   // diffusers module name
    std::string block;  // "down" | "up"
    int heads = 0;
    int height = 0;  // attention grid
    int width = 0;
};

struct HeatmapWord {
    std::string word;
    std::vector<int> rows;  // rows of tokenMaps averaged into its map
};

struct Heatmaps {
    std::vector<HeatmapLayer> layers;    // DAAM order: up blocks, then down blocks
    std::vector<std::string> rowTokens;  // text of each tokenMaps row: per window SOT, tokens, EOT
    std::vector<int> rowIds;
    std::vector<HostTensor> headSums;               // per layer [heads, rows, h, w], summed over UNet calls
    std::vector<std::vector<HostTensor>> callMaps;  // [call][layer] → [rows, h, w], mean over heads
    int gridHeight = 0;                             // latent grid
    int gridWidth = 0;
    HostTensor tokenMaps;  // [rows, gridHeight, gridWidth] DAAM global heat map (not normalised)
    std::vector<HeatmapWord> words;
    HostTensor wordMaps;       // [words, gridHeight, gridWidth]
    HostTensor wordMapsImage;  // [words, H, W] bicubic to image size + per-word min–max
};

struct DiffusionResult {
    int width = 0, height = 0;
    HostTensor image;                 // [1, 3, H, W] raw VAE output (not clamped)
    std::vector<uint8_t> rgb;         // H·W·3, round(clamp(image/2 + 0.5, 0, 1)·255)
    std::vector<int64_t> tokenIds;    // conditional ids, 77 per window
    std::vector<float> tokenWeights;  // emphasis of each of tokenIds (1 without promptWeights)
    HostTensor promptEmbeds;          // [1, 77·windows, D]
    HostTensor pooledPromptEmbeds;    // SDXL: [1, P] (the second encoder's projection of the first window)
    HostTensor latents;               // [calls + 1, C, h, w]; [0] = noise × init_noise_sigma
    std::vector<double> timesteps;    // per UNet call
    std::string scheduler;            // class used
    std::string schedulerName;        // its short name (euler_karras, dpmpp_2m_karras, …)
    Heatmaps heatmaps;                // empty when options.heatmaps is false
};

// A decoded preview while generating: step done, total, RGB (H·W·3).
using PreviewCallback =
    std::function<void(int step, int total, int width, int height, const std::vector<uint8_t>& rgb)>;

// Which recorded maps to aggregate (empty vectors: all). Calls [firstCall, endCall) use the
// per-call head-averaged maps; the full range with any heads uses the exact per-head sums (DAAM).
struct HeatmapFilter {
    std::vector<int> layers;
    std::vector<int> heads;
    int firstCall = 0;
    int endCall = -1;  // −1: all
};

class DiffusionModelImpl;

// How a pipeline is opened: single-file checkpoints (an LDM-layout .safetensors, as A1111 and model
// sites use) and LoRAs.
struct DiffusionLoadOptions {
    // A diffusers folder (or just its text_encoder/, unet/, vae/, scheduler/, tokenizer/ parts)
    // supplying what a checkpoint's shapes cannot say: head counts, activation, VAE scaling, sample
    // size, scheduler, tokenizer. Empty: SD 1.x's values and Spyglass's shipped CLIP tokenizer.
    std::filesystem::path configDir;
    std::filesystem::path vaePath;  // a VAE .safetensors replacing (or supplying) the checkpoint's
    std::string predictionType;     // epsilon | v_prediction (empty: the scheduler config's)
    // kohya-format LoRA files merged into the UNet and text encoder at a strength each (also for
    // diffusers folders): W + strength · (alpha / rank) · up @ down, as diffusers 0.21.2.
    struct Lora {
        std::filesystem::path path;
        double strength = 1.0;
    };
    std::vector<Lora> loras;
};

class DiffusionModel {
public:
    // A diffusers folder, or a single-file LDM checkpoint (.safetensors; `options` apply to it).
    // Throws Error naming the folder/file and the reason.
    static std::unique_ptr<DiffusionModel> load(const std::filesystem::path& path, const std::string& device = "cpu",
                                                const DiffusionLoadOptions& options = {});
    ~DiffusionModel();

    [[nodiscard]] const DiffusionInfo& info() const;
    // Throws Error for bad options (size not a multiple of 8, empty prompt, …), Cancelled when
    // `progress` returns false (checked after every UNet call).
    DiffusionResult generate(const DiffusionOptions& options, const ProgressCallback& progress = {},
                             const PreviewCallback& preview = {});
    // CLIP ids of `text` without start/end and the cleaned text's byte ranges (for tests and UIs).
    [[nodiscard]] std::vector<int> tokenize(const std::string& text) const;

private:
    explicit DiffusionModel(std::unique_ptr<DiffusionModelImpl> impl);
    std::unique_ptr<DiffusionModelImpl> m_impl;
};

// The DAAM global map [rows, gridHeight, gridWidth] of the maps chosen by `filter`.
[[nodiscard]] HostTensor aggregateHeatmaps(const Heatmaps& heatmaps, const HeatmapFilter& filter);
// Word maps [words, h, w] (mean over each word's rows) from token maps [rows, h, w].
[[nodiscard]] HostTensor wordMapsFrom(const Heatmaps& heatmaps, const HostTensor& tokenMaps);
// Bicubic resize of maps [n, h, w] to [n, height, width]; with `minMax` each map scaled to [0, 1].
[[nodiscard]] HostTensor resizeMaps(const HostTensor& maps, int height, int width, bool minMax);

}  // namespace spyglass::core
