#pragma once
// Gpt2Model — GPT-2 (Hugging Face GPT2LMHeadModel weights) in plain libtorch ops.
// Both namings load: with and without the "transformer." prefix; attn.bias / attn.masked_bias
// buffers are ignored; HF Conv1D weights are [in, out] (y = x W + b).
#include "models/causal_lm.h"
#include "models/gpt2_config.h"

#include "io/weight_store.h"

#include <vector>

namespace spyglass::core {

class Gpt2Model final : public CausalLm {
public:
    // Throws Error on missing, unexpected or mis-shaped tensors.
    Gpt2Model(const Gpt2Config& config, const WeightStore& weights, const torch::Device& device, ModelInfo info);

    [[nodiscard]] const ModelInfo& info() const override { return m_info; }
    [[nodiscard]] torch::Device device() const override { return m_device; }
    [[nodiscard]] torch::Tensor embedTokens(const torch::Tensor& ids) const override;
    [[nodiscard]] torch::Tensor forwardEmbeddings(const torch::Tensor& wordEmbeddings,
                                                  const ForwardOptions& options) const override;
    [[nodiscard]] torch::Tensor finalNorm(const torch::Tensor& residual) const override;
    [[nodiscard]] torch::Tensor unembed(const torch::Tensor& normed) const override;
    [[nodiscard]] torch::Tensor mlpDownProjection(int layer) const override;

private:
    struct Block {
        torch::Tensor ln1Weight, ln1Bias, qkvWeight, qkvBias, attnProjWeight, attnProjBias;
        torch::Tensor ln2Weight, ln2Bias, fcWeight, fcBias, mlpProjWeight, mlpProjBias;
    };
    [[nodiscard]] torch::Tensor activation(const torch::Tensor& x) const;
    [[nodiscard]] torch::Tensor attention(const Block& block, int layer, const torch::Tensor& x,
                                          const ForwardOptions& options) const;

    Gpt2Config m_config;
    torch::Device m_device;
    ModelInfo m_info;
    torch::Tensor m_wte, m_wpe, m_lnfWeight, m_lnfBias, m_lmHead;
    std::vector<Block> m_blocks;
};

}  // namespace spyglass::core
