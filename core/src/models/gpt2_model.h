#pragma once
// Gpt2Model — GPT-2 (Hugging Face GPT2LMHeadModel weights) in plain libtorch ops.
// Both namings load: with and without the "transformer." prefix; attn.bias / attn.masked_bias
// buffers are ignored; HF Conv1D weights are [in, out] (y = x W + b).
#include "models/causal_lm.h"
#include "models/gpt2_config.h"

#include "io/weight_store.h"

#include <functional>
#include <set>
#include <string>
#include <vector>

namespace spyglass::core {

class Gpt2Model final : public CausalLm {
public:
    // Gives the tensor called `name` with the shape `shape` (throws Error when it cannot).
    using TensorSource = std::function<torch::Tensor(const std::string& name, const std::vector<int64_t>& shape)>;

    // Throws Error on missing, unexpected or mis-shaped tensors.
    Gpt2Model(const Gpt2Config& config, const WeightStore& weights, const torch::Device& device, ModelInfo info);
    // From tensors the caller owns (the trainer's parameters, named without a prefix); they may
    // require gradients.
    Gpt2Model(const Gpt2Config& config, const TensorSource& source, const torch::Device& device, ModelInfo info);

    // Every parameter by its Hugging Face name (no prefix; lm_head.weight only when untied).
    [[nodiscard]] std::vector<std::pair<std::string, torch::Tensor>> namedParameters() const;
    // Shapes of every parameter for `config`, in namedParameters() order.
    [[nodiscard]] static std::vector<std::pair<std::string, std::vector<int64_t>>> parameterShapes(
        const Gpt2Config& config);

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
    struct Block {
        torch::Tensor ln1Weight, ln1Bias, qkvWeight, qkvBias, attnProjWeight, attnProjBias;
        torch::Tensor ln2Weight, ln2Bias, fcWeight, fcBias, mlpProjWeight, mlpProjBias;
    };
    [[nodiscard]] torch::Tensor activation(const torch::Tensor& x) const;
    [[nodiscard]] torch::Tensor attention(const Block& block, int layer, const torch::Tensor& x,
                                          const ForwardOptions& options) const;

    void build(const TensorSource& source, const std::string& prefix);

    Gpt2Config m_config;
    torch::Device m_device;
    ModelInfo m_info;
    torch::Tensor m_wte, m_wpe, m_lnfWeight, m_lnfBias, m_lmHead;
    std::vector<Block> m_blocks;
};

}  // namespace spyglass::core
