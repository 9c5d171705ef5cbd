#pragma once
// RotaryDecoderModel — the rotary-embedding decoder families in one class: Llama, Mistral
// (sliding window), Qwen2 (q/k/v biases), GPT-NeoX (fused per-head q|k|v, partial rotary,
// parallel residual, LayerNorm), Gemma ((1 + w) norms, √D embeddings, GeGLU, MQA), Gemma 2
// (+ sandwich norms, soft-capped scores and logits, sliding window on even layers), Phi-3 (fused
// qkv and gate_up projections, split into views at load) and Qwen3 (per-head q/k RMSNorm).
// Differences are data (RotaryConfig + a weight-name table per family), not code paths per
// family. HF nn.Linear weights are [out, in].
// Captures beyond the common names: Gemma 2's attn_raw.L / mlp_raw.L (the projections before
// their post-norm; attn_out.L / mlp_out.L are what is added to the residual) and
// logits_pre_softcap (logits is after the soft-cap, as the lens reads it).
#include "models/causal_lm.h"
#include "models/rotary_config.h"

#include "io/weight_store.h"

#include <functional>
#include <string>
#include <vector>

namespace spyglass::core {

class RotaryDecoderModel final : public CausalLm {
public:
    // Gives the tensor called `name` (HF naming) with the shape `shape`, or throws Error.
    using TensorSource = std::function<torch::Tensor(const std::string& name, const std::vector<int64_t>& shape)>;

    // Throws Error on missing, unexpected or mis-shaped tensors.
    RotaryDecoderModel(const RotaryConfig& config, const WeightStore& weights, const torch::Device& device,
                       ModelInfo info);
    // From tensors in HF naming and layout (e.g. converted from a llama2.c checkpoint).
    RotaryDecoderModel(const RotaryConfig& config, const TensorSource& source, const torch::Device& device,
                       ModelInfo info);

    [[nodiscard]] const ModelInfo& info() const override { return m_info; }
    [[nodiscard]] torch::Device device() const override { return m_device; }
    [[nodiscard]] torch::Tensor embedTokens(const torch::Tensor& ids) const override;
    [[nodiscard]] torch::Tensor forwardEmbeddings(const torch::Tensor& wordEmbeddings,
                                                  const ForwardOptions& options) const override;
    [[nodiscard]] torch::Tensor finalNorm(const torch::Tensor& residual) const override;
    [[nodiscard]] torch::Tensor unembed(const torch::Tensor& normed) const override;
    void unembedTransposed(const torch::Tensor& normed, int64_t begin, torch::Tensor& out) const override;
    [[nodiscard]] torch::Tensor mlpDownProjection(int layer) const override;

private:
    void build(const TensorSource& source);

    struct Block {
        torch::Tensor norm1Weight, norm1Bias, norm2Weight, norm2Bias;  // before attention, before the MLP
        torch::Tensor postAttnNormWeight, postMlpNormWeight;           // Gemma 2
        torch::Tensor qNormWeight, kNormWeight;                        // Qwen3 [head_dim]
        torch::Tensor qkvWeight, qkvBias;                              // NeoX fused
        torch::Tensor qWeight, qBias, kWeight, kBias, vWeight, vBias;
        torch::Tensor outWeight, outBias;
        torch::Tensor gateWeight, upWeight, upBias, downWeight, downBias;
    };
    [[nodiscard]] torch::Tensor norm(const torch::Tensor& x, const torch::Tensor& weight,
                                     const torch::Tensor& bias) const;
    [[nodiscard]] torch::Tensor rmsNorm(const torch::Tensor& x, const torch::Tensor& gain) const;
    [[nodiscard]] torch::Tensor softcap(const torch::Tensor& x, double cap) const;
    [[nodiscard]] torch::Tensor unembedRaw(const torch::Tensor& normed) const;
    [[nodiscard]] torch::Tensor rotate(const torch::Tensor& x, int64_t start) const;
    [[nodiscard]] torch::Tensor attention(const Block& b, int layer, const torch::Tensor& h,
                                          const ForwardOptions& options) const;
    [[nodiscard]] torch::Tensor mlp(const Block& b, const torch::Tensor& h, const ForwardOptions& options,
                                    int layer) const;

    RotaryConfig m_config;
    torch::Device m_device;
    ModelInfo m_info;
    torch::Tensor m_embed, m_finalWeight, m_finalBias, m_head, m_invFreq;
    std::vector<Block> m_blocks;
};

}  // namespace spyglass::core
