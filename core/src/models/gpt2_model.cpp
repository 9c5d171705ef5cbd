#include "models/gpt2_model.h"

#include "models/attention_products.h"
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

std::vector<std::pair<std::string, std::vector<int64_t>>> Gpt2Model::parameterShapes(const Gpt2Config& config)
{
    const int64_t d = config.width, f = config.innerWidth, v = config.vocabSize;
    std::vector<std::pair<std::string, std::vector<int64_t>>> shapes{{"wte.weight", {v, d}},
                                                                     {"wpe.weight", {config.contextLength, d}}};
    for (int i = 0; i < config.layerCount; ++i) {
        const std::string p = "h." + std::to_string(i) + ".";
        shapes.push_back({p + "ln_1.weight", {d}});
        shapes.push_back({p + "ln_1.bias", {d}});
        shapes.push_back({p + "attn.c_attn.weight", {d, 3 * d}});
        shapes.push_back({p + "attn.c_attn.bias", {3 * d}});
        shapes.push_back({p + "attn.c_proj.weight", {d, d}});
        shapes.push_back({p + "attn.c_proj.bias", {d}});
        shapes.push_back({p + "ln_2.weight", {d}});
        shapes.push_back({p + "ln_2.bias", {d}});
        shapes.push_back({p + "mlp.c_fc.weight", {d, f}});
        shapes.push_back({p + "mlp.c_fc.bias", {f}});
        shapes.push_back({p + "mlp.c_proj.weight", {f, d}});
        shapes.push_back({p + "mlp.c_proj.bias", {d}});
    }
    shapes.push_back({"ln_f.weight", {d}});
    shapes.push_back({"ln_f.bias", {d}});
    if (!config.tiedEmbeddings) shapes.push_back({"lm_head.weight", {v, d}});
    return shapes;
}

void Gpt2Model::build(const TensorSource& source, const std::string& prefix)
{
    std::map<std::string, torch::Tensor> loaded;
    for (const auto& [name, shape] : parameterShapes(m_config))
        loaded[name] = source(name == "lm_head.weight" ? name : prefix + name, shape);
    m_wte = loaded.at("wte.weight");
    m_wpe = loaded.at("wpe.weight");
    for (int i = 0; i < m_config.layerCount; ++i) {
        const std::string p = "h." + std::to_string(i) + ".";
        Block b;
        b.ln1Weight = loaded.at(p + "ln_1.weight");
        b.ln1Bias = loaded.at(p + "ln_1.bias");
        b.qkvWeight = loaded.at(p + "attn.c_attn.weight");
        b.qkvBias = loaded.at(p + "attn.c_attn.bias");
        b.attnProjWeight = loaded.at(p + "attn.c_proj.weight");
        b.attnProjBias = loaded.at(p + "attn.c_proj.bias");
        b.ln2Weight = loaded.at(p + "ln_2.weight");
        b.ln2Bias = loaded.at(p + "ln_2.bias");
        b.fcWeight = loaded.at(p + "mlp.c_fc.weight");
        b.fcBias = loaded.at(p + "mlp.c_fc.bias");
        b.mlpProjWeight = loaded.at(p + "mlp.c_proj.weight");
        b.mlpProjBias = loaded.at(p + "mlp.c_proj.bias");
        m_blocks.push_back(std::move(b));
    }
    m_lnfWeight = loaded.at("ln_f.weight");
    m_lnfBias = loaded.at("ln_f.bias");
    m_lmHead = m_config.tiedEmbeddings ? m_wte : loaded.at("lm_head.weight");
}

Gpt2Model::Gpt2Model(const Gpt2Config& config, const TensorSource& source, const torch::Device& device, ModelInfo info)
    : m_config(config), m_device(device), m_info(std::move(info))
{
    build(source, "");
}

Gpt2Model::Gpt2Model(const Gpt2Config& config, const WeightStore& weights, const torch::Device& device, ModelInfo info)
    : m_config(config), m_device(device), m_info(std::move(info))
{
    const std::string prefix = weights.find("transformer.wte.weight") ? "transformer." : "";
    std::set<std::string> used;
    build(
        [&](const std::string& name, const std::vector<int64_t>& shape) {
            used.insert(name);
            return loadWeight(weights, name, shape, device);
        },
        prefix);
    if (config.tiedEmbeddings) used.insert("lm_head.weight");  // a tied copy some exporters write
    for (const auto& name : weights.names()) {
        if (used.count(name) || isIgnoredBuffer(name)) continue;
        throw Error(weights.fileOf(name) + ": unexpected tensor '" + name + "' for a GPT-2 with " +
                    std::to_string(config.layerCount) + " layers (wrong architecture or config.json?)");
    }
}

std::vector<std::pair<std::string, torch::Tensor>> Gpt2Model::namedParameters() const
{
    std::vector<std::pair<std::string, torch::Tensor>> out{{"wte.weight", m_wte}, {"wpe.weight", m_wpe}};
    for (size_t i = 0; i < m_blocks.size(); ++i) {
        const std::string p = "h." + std::to_string(i) + ".";
        const Block& b = m_blocks[i];
        out.insert(out.end(), {{p + "ln_1.weight", b.ln1Weight},
                               {p + "ln_1.bias", b.ln1Bias},
                               {p + "attn.c_attn.weight", b.qkvWeight},
                               {p + "attn.c_attn.bias", b.qkvBias},
                               {p + "attn.c_proj.weight", b.attnProjWeight},
                               {p + "attn.c_proj.bias", b.attnProjBias},
                               {p + "ln_2.weight", b.ln2Weight},
                               {p + "ln_2.bias", b.ln2Bias},
                               {p + "mlp.c_fc.weight", b.fcWeight},
                               {p + "mlp.c_fc.bias", b.fcBias},
                               {p + "mlp.c_proj.weight", b.mlpProjWeight},
                               {p + "mlp.c_proj.bias", b.mlpProjBias}});
    }
    out.push_back({"ln_f.weight", m_lnfWeight});
    out.push_back({"ln_f.bias", m_lnfBias});
    if (!m_config.tiedEmbeddings) out.push_back({"lm_head.weight", m_lmHead});
    return out;
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

torch::Tensor Gpt2Model::attention(const Block& block, int layer, const torch::Tensor& x,
                                   const ForwardOptions& options) const
{
    const int64_t batch = x.size(0), length = x.size(1), d = m_config.width, headCount = m_config.headCount;
    const int64_t headWidth = d / headCount;
    const torch::Tensor qkv = conv1d(x, block.qkvWeight, block.qkvBias);
    auto split = [&](int64_t index) {
        return qkv.narrow(-1, index * d, d).view({batch, length, headCount, headWidth}).transpose(1, 2);
    };
    torch::Tensor q = split(0), k = split(1), v = split(2);
    if (options.cache) options.cache->extend(layer, k, v);
    double scale = m_config.scaleAttnWeights ? 1.0 / std::sqrt(static_cast<double>(headWidth)) : 1.0;
    if (m_config.scaleAttnByInverseLayerIdx) scale /= static_cast<double>(layer + 1);
    torch::Tensor scores = queryKeyProducts(q, k).mul_(scale);  // [B, H, T, S]
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
    if (options.capture && options.capture->wants(kCaptureAttnLastRow))
        options.capture->put("attn_last_row." + std::to_string(layer), pattern.select(2, pattern.size(2) - 1));
    const torch::Tensor heads = edited(EditSite::HeadOut, layer, mixValues(pattern, v).transpose(1, 2), options);
    return conv1d(heads.reshape({batch, length, d}), block.attnProjWeight, block.attnProjBias);
}

torch::Tensor Gpt2Model::forwardEmbeddings(const torch::Tensor& wordEmbeddings, const ForwardOptions& options) const
{
    const int64_t length = wordEmbeddings.size(1), d = m_config.width;
    if (options.startPosition + length > m_config.contextLength)
        throw Error("sequence of " + std::to_string(options.startPosition + length) +
                    " tokens exceeds the model's context window of " + std::to_string(m_config.contextLength));
    ActivationCapture* capture = options.capture;
    auto keep = [&](CaptureKind kind, const std::string& name, const torch::Tensor& t) {
        if (capture && capture->wants(kind)) capture->put(name, t);
    };
    torch::Tensor x = wordEmbeddings + m_wpe.narrow(0, options.startPosition, length);
    for (size_t i = 0; i < m_blocks.size(); ++i) {
        const Block& b = m_blocks[i];
        const int layer = static_cast<int>(i);
        const std::string index = std::to_string(i);
        x = edited(EditSite::ResidPre, layer, x, options);
        keep(kCaptureResidPre, "resid_pre." + index, x);
        const torch::Tensor attnOut = edited(
            EditSite::AttnOut, layer,
            attention(b, layer, torch::layer_norm(x, {d}, b.ln1Weight, b.ln1Bias, m_config.layerNormEpsilon), options),
            options);
        keep(kCaptureAttnOut, "attn_out." + index, attnOut);
        x = x + attnOut;
        const torch::Tensor act =
            edited(EditSite::MlpAct, layer,
                   activation(conv1d(torch::layer_norm(x, {d}, b.ln2Weight, b.ln2Bias, m_config.layerNormEpsilon),
                                     b.fcWeight, b.fcBias)),
                   options);
        keep(kCaptureMlpAct, "mlp_act." + index, act);
        const torch::Tensor mlpOut =
            edited(EditSite::MlpOut, layer, conv1d(act, b.mlpProjWeight, b.mlpProjBias), options);
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

void Gpt2Model::unembedTransposed(const torch::Tensor& normed, int64_t begin, torch::Tensor& out) const
{
    torch::mm_out(out, m_lmHead.narrow(0, begin, out.size(0)), normed.t());
}

torch::Tensor Gpt2Model::mlpDownProjection(int layer) const
{
    return m_blocks.at(static_cast<size_t>(layer)).mlpProjWeight;
}

}  // namespace spyglass::core
