#pragma once
// The building blocks of the image models (CLIP text encoder, UNet, VAE) as plain structs over
// named weights: each constructor loads and shape-checks its tensors from a WeightStore, each
// call operator is the layer's forward. Names follow diffusers / transformers state_dict keys.
#include "io/weight_store.h"

#include <torch/torch.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace spyglass::core {

// For training: every parameter a model is built with, by its state_dict name. With `create` the
// parameters are made fresh (PyTorch's default init: U(±1/√fan_in) for weights, zero biases, unit
// norm gains, N(0, 0.02) embeddings); otherwise loaded and copied. Either way they require grad.
struct ParameterSet {
    bool create = false;
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
};

// Loads "<prefix><name>" from a store onto a device, checking shapes (Error names file and tensor),
// or makes trainable parameters into a ParameterSet.
class Weights {
public:
    Weights(const WeightStore& store, torch::Device device, std::string prefix = {})
        : m_store(&store), m_device(device), m_prefix(std::move(prefix))
    {
    }
    // Trainable weights: loaded from `store` (when given) or created, recorded in `parameters`.
    Weights(const WeightStore* store, std::shared_ptr<ParameterSet> parameters, torch::Device device,
            std::string prefix = {})
        : m_store(store), m_device(device), m_prefix(std::move(prefix)), m_parameters(std::move(parameters))
    {
    }
    [[nodiscard]] torch::Tensor operator()(const std::string& name, const std::vector<int64_t>& shape) const;
    [[nodiscard]] bool has(const std::string& name) const
    {
        return m_store ? m_store->find(m_prefix + name) != nullptr : m_parameters && m_parameters->create;
    }
    // The weights below "<prefix><name>.".
    [[nodiscard]] Weights at(const std::string& name) const
    {
        Weights w(*this);
        w.m_prefix += name + ".";
        return w;
    }
    [[nodiscard]] const std::string& prefix() const { return m_prefix; }
    [[nodiscard]] torch::Device device() const { return m_device; }

private:
    const WeightStore* m_store;
    torch::Device m_device;
    std::string m_prefix;
    std::shared_ptr<ParameterSet> m_parameters;
};

struct Linear {
    torch::Tensor weight, bias;
    Linear() = default;
    Linear(const Weights& w, int64_t in, int64_t out, bool withBias = true);
    [[nodiscard]] torch::Tensor operator()(const torch::Tensor& x) const { return torch::linear(x, weight, bias); }
};

struct Conv2d {
    torch::Tensor weight, bias;
    int64_t stride = 1, padding = 0;
    Conv2d() = default;
    Conv2d(const Weights& w, int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0);
    [[nodiscard]] torch::Tensor operator()(const torch::Tensor& x) const
    {
        return torch::conv2d(x, weight, bias, stride, padding);
    }
};

struct GroupNorm {
    torch::Tensor weight, bias;
    int64_t groups = 32;
    double eps = 1e-5;
    GroupNorm() = default;
    GroupNorm(const Weights& w, int64_t groups, int64_t channels, double eps);
    [[nodiscard]] torch::Tensor operator()(const torch::Tensor& x) const
    {
        return torch::group_norm(x, groups, weight, bias, eps);
    }
};

struct LayerNorm {
    torch::Tensor weight, bias;
    int64_t width = 0;
    double eps = 1e-5;
    LayerNorm() = default;
    LayerNorm(const Weights& w, int64_t width, double eps);
    [[nodiscard]] torch::Tensor operator()(const torch::Tensor& x) const
    {
        return torch::layer_norm(x, {width}, weight, bias, eps);
    }
};

// softmax(scale · q kᵀ) v over [batch·heads, tokens, head_dim], sliced over batch·heads so the
// score matrix never exceeds ~256 MB. `probs`, when given, receives the probabilities (unsliced).
[[nodiscard]] torch::Tensor scaledAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                            double scale, torch::Tensor* probs = nullptr);
// [B, T, heads·d] ↔ [B·heads, T, d] (diffusers' head_to_batch_dim / batch_to_head_dim).
[[nodiscard]] torch::Tensor headsToBatch(const torch::Tensor& x, int64_t heads);
[[nodiscard]] torch::Tensor batchToHeads(const torch::Tensor& x, int64_t heads);

}  // namespace spyglass::core
