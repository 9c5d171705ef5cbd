#pragma once
// UNetModel — diffusers' UNet2DConditionModel (unet/ of a Stable Diffusion 1.x/2.x or SDXL folder): the
// sinusoidal time embedding, ResNet blocks, Transformer2D blocks with self- and cross-attention
// and GEGLU feed-forward, down/up sampling and skip connections. Every size comes from
// config.json (block_out_channels, layers_per_block, attention_head_dim / num_attention_heads,
// cross_attention_dim, use_linear_projection, …); nothing is hard-coded to SD 1.5.
// The cross-attention probabilities of the down and up blocks go to an optional sink (DAAM).
// Thread safety: immutable after load; forward() is reentrant.
#include "image/config_reader.h"
#include "image/nn_layers.h"

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace spyglass::core {

// One cross-attention layer that DAAM reads, in DAAM's order (up blocks, then down blocks).
struct CrossAttentionLayer {
    std::string name;   // e.g. "up_blocks.0.attentions.0.transformer_blocks.0.attn2"
    std::string block;  // "up" | "down"
    int64_t heads = 0;
};

// probs [batch·heads, height·width, keys], rows b·heads + h, query index y·width + x.
using CrossAttentionSink = std::function<void(int layer, const torch::Tensor& probs, int64_t height, int64_t width)>;

// SDXL's added conditioning ("text_time"): pooled text embeddings [B, P] and the size/crop time ids
// [B, 6] (original h, w, crop top, left, target h, w). Empty for SD 1.x/2.x UNets.
struct AddedConditioning {
    torch::Tensor textEmbeds, timeIds;
    // LCM-distilled UNets: guidanceScaleEmbedding(guidance − 1, timeConditionWidth()) per batch entry.
    torch::Tensor timeCondition;
};

// diffusers' get_guidance_scale_embedding(w, dim) (LCM pipelines): [1, dim] float32,
// cat(sin(1000 w · f), cos(1000 w · f)) with f_i = exp(−i · ln 10000 / (dim/2 − 1)).
[[nodiscard]] torch::Tensor guidanceScaleEmbedding(double w, int64_t dim);

class UNetModel {
public:
    static std::unique_ptr<UNetModel> load(const std::filesystem::path& dir, torch::Device device,
                                           const StoreAdjust& adjust = {});
    // From a config and weights (loaded, or trainable: see ParameterSet).
    static std::unique_ptr<UNetModel> build(const ConfigReader& config, const Weights& weights);
    ~UNetModel();

    // sample [B, C, h, w], timestep (a float, broadcast to the batch), context [B, S, D] → [B, C, h, w].
    [[nodiscard]] torch::Tensor forward(const torch::Tensor& sample, double timestep, const torch::Tensor& context,
                                        const CrossAttentionSink& sink = {}, const AddedConditioning& added = {}) const;
    // One timestep per batch entry (training): timesteps [B], float.
    [[nodiscard]] torch::Tensor forward(const torch::Tensor& sample, const torch::Tensor& timesteps,
                                        const torch::Tensor& context, const CrossAttentionSink& sink = {},
                                        const AddedConditioning& added = {}) const;
    // The guidance-embedding width of an LCM-distilled UNet (time_cond_proj_dim); 0 for others.
    [[nodiscard]] int64_t timeConditionWidth() const;
    // The pooled text width SDXL's text_time conditioning takes; 0 when the UNet has none.
    [[nodiscard]] int64_t pooledWidth() const;

    [[nodiscard]] int64_t inChannels() const;
    [[nodiscard]] int64_t sampleSize() const;
    [[nodiscard]] int64_t contextWidth() const;
    // 2^(number of down blocks that downsample): latent sizes must be multiples of it.
    [[nodiscard]] int64_t downsampleFactor() const;
    [[nodiscard]] const std::vector<CrossAttentionLayer>& crossAttentionLayers() const;

    struct Impl;

private:
    std::unique_ptr<Impl> m_impl;
};

}  // namespace spyglass::core
