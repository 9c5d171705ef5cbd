#include "models/gpt2_model.h"

#include "models/torch_weights.h"
#include "spyglass/error.h"

#include <cmath>
#include <set>

namespace spyglass::core {

namespace {

// Linear layer with HF Conv1D layout: x [.., in] · W [in, out] + b.
torch::Tensor conv1d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias)
{
    auto sizes = x.sizes().vec();
    sizes.back() = weight.size(1);
    return torch::addmm(bias, x.reshape({-1, x.size(-1)}), weight).view(sizes);
}

bool isIgnoredBuffer(const std::string& name)
{
    auto endsWith = [&](const std::string& suffix) {
        return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return endsWith(".attn.bias") || endsWith(".attn.masked_bias");
}

}  // namespace

Gpt2Model::Gpt2Model(const Gpt2Config& config, const WeightStore& weights, const torch::Device& device, ModelInfo info)
    : m_config(config), m_device(device), m_info(std::move(info))
{
    const std::string prefix = weights.find("transformer.wte.weight") ? "transformer." : "";
    std::set<std::string> used;
    const int64_t d = config.width, f = config.innerWidth, v = config.vocabSize;
    auto load = [&](const std::string& name, const std::vector<int64_t>& shape) {
        used.insert(name);
        return loadWeight(weights, name, shape, device);
    };
    m_wte = load(prefix + "wte.weight", {v, d});
    m_wpe = load(prefix + "wpe.weight", {config.contextLength, d});
    for (int i = 0; i < config.layerCount; ++i) {
        const std::string p = prefix + "h." + std::to_string(i) + ".";
        Block b;
        b.ln1Weight = load(p + "ln_1.weight", {d});
        b.ln1Bias = load(p + "ln_1.bias", {d});
        b.qkvWeight = load(p + "attn.c_attn.weight", {d, 3 * d});
        b.qkvBias = load(p + "attn.c_attn.bias", {3 * d});
        b.attnProjWeight = load(p + "attn.c_proj.weight", {d, d});
        b.attnProjBias = load(p + "attn.c_proj.bias", {d});
        b.ln2Weight = load(p + "ln_2.weight", {d});
        b.ln2Bias = load(p + "ln_2.bias", {d});
        b.fcWeight = load(p + "mlp.c_fc.weight", {d, f});
        b.fcBias = load(p + "mlp.c_fc.bias", {f});
        b.mlpProjWeight = load(p + "mlp.c_proj.weight", {f, d});
        b.mlpProjBias = load(p + "mlp.c_proj.bias", {d});
        m_blocks.push_back(std::move(b));
    }
    m_lnfWeight = load(prefix + "ln_f.weight", {d});
    m_lnfBias = load(prefix + "ln_f.bias", {d});
    if (weights.find("lm_head.weight") && !config.tiedEmbeddings) {
        m_lmHead = load("lm_head.weight", {v, d});
    } else {
        if (!config.tiedEmbeddings) throw Error("missing tensor 'lm_head.weight' (config.json says tie_word_embeddings: false)");
        used.insert("lm_head.weight");  // a tied copy some exporters write
        m_lmHead = m_wte;
    }
    for (const auto& name : weights.names()) {
        if (used.count(name) || isIgnoredBuffer(name)) continue;
        throw Error(weights.fileOf(name) + ": unexpected tensor '" + name + "' for a GPT-2 with " +
                    std::to_string(config.layerCount) + " layers (wrong architecture or config.json?)");
    }
}

torch::Tensor Gpt2Model::embedTokens(const torch::Tensor& ids) const
{
    return torch::embedding(m_wte, ids.to(m_device));
}

torch::Tensor Gpt2Model::activation(const torch::Tensor& x) const
{
    const std::string& a = m_config.activation;
    if (a == "gelu") return torch::gelu(x);
    if (a == "relu") return torch::relu(x);
    if (a == "silu" || a == "swish") return torch::silu(x);
    return torch::gelu(x, "tanh");  // gelu_new, gelu_fast, gelu_pytorch_tanh
}

torch::Tensor Gpt2Model::attention(const Block& block, int layer, const torch::Tensor& x, const ForwardOptions& options) const
{
    const int64_t batch = x.size(0), length = x.size(1), d = m_config.width, heads = m_config.headCount;
    const int64_t headWidth = d / heads;
    const torch::Tensor qkv = conv1d(x, block.qkvWeight, block.qkvBias);
    auto split = [&](int64_t index) {
        return qkv.narrow(-1, index * d, d).view({batch, length, heads, headWidth}).transpose(1, 2);
    };
    torch::Tensor q = split(0), k = split(1), v = split(2);
    if (options.cache) {
        auto& keys = options.cache->keys[static_cast<size_t>(layer)];
        auto& values = options.cache->values[static_cast<size_t>(layer)];
        if (keys.defined()) {
            k = torch::cat({keys, k}, 2);
            v = torch::cat({values, v}, 2);
        }
        keys = k;
        values = v;
    }
    double scale = m_config.scaleAttnWeights ? 1.0 / std::sqrt(static_cast<double>(headWidth)) : 1.0;
    if (m_config.scaleAttnByInverseLayerIdx) scale /= static_cast<double>(layer + 1);
    torch::Tensor scores = torch::matmul(q, k.transpose(-1, -2)).mul_(scale);  // [B, H, T, S]
    const int64_t keyLength = k.size(2);
    if (length > 1) {
        // Query i sits at absolute position keyLength - length + i and sees keys up to it.
        const torch::Tensor allowed =
            torch::ones({length, keyLength}, torch::TensorOptions().dtype(torch::kBool).device(m_device))
                .tril(keyLength - length);
        scores.masked_fill_(allowed.logical_not(), -std::numeric_limits<float>::infinity());
    }
    const torch::Tensor pattern = torch::softmax(scores, -1);
    if (options.capture && options.capture->wants(kCaptureAttnPattern))
        options.capture->put("attn_pattern." + std::to_string(layer), pattern);
    const torch::Tensor mixed = torch::matmul(pattern, v).transpose(1, 2).reshape({batch, length, d});
    return conv1d(mixed, block.attnProjWeight, block.attnProjBias);
}

torch::Tensor Gpt2Model::forwardEmbeddings(const torch::Tensor& wordEmbeddings, const ForwardOptions& options) const
{
    const int64_t length = wordEmbeddings.size(1), d = m_config.width;
    if (options.startPosition + length > m_config.contextLength)
        throw Error("sequence of " + std::to_string(options.startPosition + length) +
                    " tokens exceeds the model's context window of " + std::to_string(m_config.contextLength));
    if (options.cache && options.cache->keys.empty()) {
        options.cache->keys.resize(m_blocks.size());
        options.cache->values.resize(m_blocks.size());
    }
    ActivationCapture* capture = options.capture;
    auto keep = [&](CaptureKind kind, const std::string& name, const torch::Tensor& t) {
        if (capture && capture->wants(kind)) capture->put(name, t);
    };
    torch::Tensor x = wordEmbeddings + m_wpe.narrow(0, options.startPosition, length);
    for (size_t i = 0; i < m_blocks.size(); ++i) {
        const Block& b = m_blocks[i];
        const std::string index = std::to_string(i);
        keep(kCaptureResidPre, "resid_pre." + index, x);
        const torch::Tensor attnOut =
            attention(b, static_cast<int>(i), torch::layer_norm(x, {d}, b.ln1Weight, b.ln1Bias, m_config.layerNormEpsilon), options);
        keep(kCaptureAttnOut, "attn_out." + index, attnOut);
        x = x + attnOut;
        const torch::Tensor act =
            activation(conv1d(torch::layer_norm(x, {d}, b.ln2Weight, b.ln2Bias, m_config.layerNormEpsilon), b.fcWeight, b.fcBias));
        keep(kCaptureMlpAct, "mlp_act." + index, act);
        const torch::Tensor mlpOut = conv1d(act, b.mlpProjWeight, b.mlpProjBias);
        keep(kCaptureMlpOut, "mlp_out." + index, mlpOut);
        x = x + mlpOut;
        keep(kCaptureResidPost, "resid_post." + index, x);
    }
    if (options.cache) options.cache->length = options.startPosition + length;
    torch::Tensor normed = finalNorm(options.lastLogitsOnly ? x.narrow(1, length - 1, 1) : x);
    keep(kCaptureFinalNorm, "final_norm_out", normed);
    torch::Tensor logits = unembed(normed);
    keep(kCaptureLogits, "logits", logits);
    return logits;
}

torch::Tensor Gpt2Model::finalNorm(const torch::Tensor& residual) const
{
    return torch::layer_norm(residual, {m_config.width}, m_lnfWeight, m_lnfBias, m_config.layerNormEpsilon);
}

torch::Tensor Gpt2Model::unembed(const torch::Tensor& normed) const
{
    return torch::matmul(normed, m_lmHead.t());
}

torch::Tensor Gpt2Model::mlpDownProjection(int layer) const
{
    return m_blocks.at(static_cast<size_t>(layer)).mlpProjWeight;
}

}  // namespace spyglass::core
