#pragma once
// ClipTextEncoder — transformers' CLIPTextModel (text_encoder/ of a diffusers folder) and
// CLIPTextModelWithProjection (SDXL's text_encoder_2): token +
// position embeddings, pre-norm causal transformer layers (quick_gelu or gelu MLP), final
// LayerNorm. forward() returns last_hidden_state; the hidden states before it on request.
// Thread safety: immutable after load; forward() is reentrant.
#include "image/config_reader.h"
#include "image/nn_layers.h"

#include <filesystem>
#include <memory>
#include <vector>

namespace spyglass::core {

struct ClipTextConfig {
    int64_t width = 768;
    int64_t heads = 12;
    int64_t layers = 12;
    int64_t intermediate = 3072;
    int64_t positions = 77;
    int64_t vocab = 49408;
    double eps = 1e-5;
    bool quickGelu = true;
};

class ClipTextEncoder {
public:
    // Reads dir/config.json and the folder's safetensors. Throws Error naming the file.
    static std::unique_ptr<ClipTextEncoder> load(const std::filesystem::path& dir, torch::Device device,
                                                 const StoreAdjust& adjust = {});
    // From a config and weights (loaded, or trainable: see ParameterSet).
    static std::unique_ptr<ClipTextEncoder> build(const ConfigReader& config, const Weights& weights);

    // ids [B, T] (T ≤ positions) → [B, T, width]. `hidden`, when given, receives the embeddings
    // and the output of every layer (HF hidden_states).
    // `skip` last layers are left out (A1111's clip skip − 1); the final layer norm is applied to the
    // output of the layer before them.
    [[nodiscard]] torch::Tensor forward(const torch::Tensor& ids, std::vector<torch::Tensor>* hidden = nullptr,
                                        int skip = 0) const;
    [[nodiscard]] const ClipTextConfig& config() const { return m_config; }
    // CLIPTextModelWithProjection (SDXL's text_encoder_2): text_projection(last_hidden_state at the
    // first end-of-text id, the largest id as transformers' argmax takes it) → [B, projection].
    [[nodiscard]] bool hasProjection() const { return m_projection.defined(); }
    [[nodiscard]] torch::Tensor pooled(const torch::Tensor& lastHidden, const torch::Tensor& ids) const;

private:
    struct Layer {
        LayerNorm norm1, norm2;
        Linear q, k, v, out, fc1, fc2;
    };
    ClipTextConfig m_config;
    torch::Tensor m_tokenEmbedding, m_positionEmbedding;
    std::vector<Layer> m_layers;
    LayerNorm m_finalNorm;
    torch::Tensor m_projection;  // [projection, width], no bias
};

}  // namespace spyglass::core
