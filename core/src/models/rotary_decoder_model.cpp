#include "models/rotary_decoder_model.h"

#include "models/attention_products.h"
#include "models/torch_weights.h"
#include "spyglass/error.h"

#include <cmath>
#include <set>

namespace spyglass::core {

namespace {

bool endsWith(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

torch::Tensor activate(const std::string& name, const torch::Tensor& x)
{
    if (name == "silu" || name == "swish") return torch::silu(x);
    if (name == "gelu") return torch::gelu(x);
    if (name == "relu") return torch::relu(x);
    return torch::gelu(x, "tanh");
}

}  // namespace

RotaryDecoderModel::RotaryDecoderModel(const RotaryConfig& c, const WeightStore& weights, const torch::Device& device,
                                       ModelInfo info)
    : m_config(c), m_device(device), m_info(std::move(info))
{
    std::set<std::string> used;
    build([&](const std::string& name, const std::vector<int64_t>& shape) {
        used.insert(name);
        return loadWeight(weights, name, shape, device);
    });
    used.insert(c.family == "gpt_neox" ? "embed_out.weight" : "lm_head.weight");  // a tied copy some exporters write
    for (const auto& name : weights.names()) {
        if (used.count(name) || endsWith(name, "rotary_emb.inv_freq") || endsWith(name, "attention.bias") ||
            endsWith(name, "attention.masked_bias"))
            continue;
        throw Error(weights.fileOf(name) + ": unexpected tensor '" + name + "' for a " + c.family + " model with " +
                    std::to_string(c.layerCount) + " layers (wrong architecture or config.json?)");
    }
}

RotaryDecoderModel::RotaryDecoderModel(const RotaryConfig& c, const TensorSource& source, const torch::Device& device,
                                       ModelInfo info)
    : m_config(c), m_device(device), m_info(std::move(info))
{
    build(source);
}

void RotaryDecoderModel::build(const TensorSource& load)
{
    const RotaryConfig& c = m_config;
    const int64_t d = c.width, hd = c.headWidth, h = c.headCount, kv = c.kvHeadCount, f = c.mlpWidth, v = c.vocabSize;
    const bool neox = c.family == "gpt_neox";
    const std::string root = neox ? "gpt_neox." : "model.";
    // Gemma's RMSNorm multiplies by (1 + w): the gain is stored once as 1 + w (as HF, in float32).
    auto gain = [&](const std::string& name) {
        torch::Tensor w = load(name, {d});
        return c.normPlusOne ? w + 1.0 : w;
    };
    m_embed = load(root + (neox ? "embed_in.weight" : "embed_tokens.weight"), {v, d});
    for (int i = 0; i < c.layerCount; ++i) {
        const std::string p = root + "layers." + std::to_string(i) + ".";
        Block b;
        b.norm1Weight = gain(p + "input_layernorm.weight");
        if (c.sandwichNorms) {  // Gemma 2: post_attention_layernorm normalises the attention's output
            b.postAttnNormWeight = gain(p + "post_attention_layernorm.weight");
            b.norm2Weight = gain(p + "pre_feedforward_layernorm.weight");
            b.postMlpNormWeight = gain(p + "post_feedforward_layernorm.weight");
        } else {
            b.norm2Weight = gain(p + "post_attention_layernorm.weight");
        }
        if (neox) {
            b.norm1Bias = load(p + "input_layernorm.bias", {d});
            b.norm2Bias = load(p + "post_attention_layernorm.bias", {d});
            b.qkvWeight = load(p + "attention.query_key_value.weight", {3 * h * hd, d});
            b.qkvBias = load(p + "attention.query_key_value.bias", {3 * h * hd});
            b.outWeight = load(p + "attention.dense.weight", {d, h * hd});
            b.outBias = load(p + "attention.dense.bias", {d});
            b.upWeight = load(p + "mlp.dense_h_to_4h.weight", {f, d});
            b.upBias = load(p + "mlp.dense_h_to_4h.bias", {f});
            b.downWeight = load(p + "mlp.dense_4h_to_h.weight", {d, f});
            b.downBias = load(p + "mlp.dense_4h_to_h.bias", {d});
        } else {
            if (c.fusedProjections) {  // Phi-3: rows [q | k | v] and [gate | up]; views, no copies
                const torch::Tensor qkv = load(p + "self_attn.qkv_proj.weight", {(h + 2 * kv) * hd, d});
                b.qWeight = qkv.narrow(0, 0, h * hd);
                b.kWeight = qkv.narrow(0, h * hd, kv * hd);
                b.vWeight = qkv.narrow(0, (h + kv) * hd, kv * hd);
                const torch::Tensor gateUp = load(p + "mlp.gate_up_proj.weight", {2 * f, d});
                b.gateWeight = gateUp.narrow(0, 0, f);
                b.upWeight = gateUp.narrow(0, f, f);
            } else {
                b.qWeight = load(p + "self_attn.q_proj.weight", {h * hd, d});
                b.kWeight = load(p + "self_attn.k_proj.weight", {kv * hd, d});
                b.vWeight = load(p + "self_attn.v_proj.weight", {kv * hd, d});
                b.gateWeight = load(p + "mlp.gate_proj.weight", {f, d});
                b.upWeight = load(p + "mlp.up_proj.weight", {f, d});
            }
            if (c.qkvBias) {
                b.qBias = load(p + "self_attn.q_proj.bias", {h * hd});
                b.kBias = load(p + "self_attn.k_proj.bias", {kv * hd});
                b.vBias = load(p + "self_attn.v_proj.bias", {kv * hd});
            }
            if (c.qkNorm) {
                b.qNormWeight = load(p + "self_attn.q_norm.weight", {hd});
                b.kNormWeight = load(p + "self_attn.k_norm.weight", {hd});
            }
            b.outWeight = load(p + "self_attn.o_proj.weight", {d, h * hd});
            if (c.outputBias) b.outBias = load(p + "self_attn.o_proj.bias", {d});
            b.downWeight = load(p + "mlp.down_proj.weight", {d, f});
        }
        m_blocks.push_back(std::move(b));
    }
    m_finalWeight = neox ? load(root + "final_layer_norm.weight", {d}) : gain(root + "norm.weight");
    if (neox) m_finalBias = load(root + "final_layer_norm.bias", {d});
    m_head = c.tiedEmbeddings ? m_embed : load(neox ? "embed_out.weight" : "lm_head.weight", {v, d});
    // inv_freq[j] = θ^(−2j / r) over the r rotated dims of a head.
    m_invFreq = torch::pow(c.ropeTheta, -torch::arange(0, c.rotaryDims, 2, torch::kFloat64) / c.rotaryDims)
                    .to(torch::kFloat32)
                    .to(m_device);
}

torch::Tensor RotaryDecoderModel::embedTokens(const torch::Tensor& ids) const
{
    return torch::embedding(m_embed, ids.to(m_device));
}

torch::Tensor RotaryDecoderModel::norm(const torch::Tensor& x, const torch::Tensor& weight,
                                       const torch::Tensor& bias) const
{
    if (!m_config.rmsNorm) return torch::layer_norm(x, {m_config.width}, weight, bias, m_config.normEpsilon);
    return rmsNorm(x, weight);
}

torch::Tensor RotaryDecoderModel::rmsNorm(const torch::Tensor& x, const torch::Tensor& gain) const
{
    return x * torch::rsqrt(x.pow(2).mean(-1, true) + m_config.normEpsilon) * gain;
}

torch::Tensor RotaryDecoderModel::softcap(const torch::Tensor& x, double cap) const
{
    return cap > 0 ? torch::tanh(x / cap) * cap : x;
}

torch::Tensor RotaryDecoderModel::rotate(const torch::Tensor& x, int64_t start) const
{
    // x [B, heads, T, hd]; HF rotate_half layout over the first r dims of each head.
    const int64_t length = x.size(2), r = m_config.rotaryDims, half = r / 2;
    const torch::Tensor positions =
        torch::arange(start, start + length, torch::TensorOptions().dtype(torch::kFloat32).device(m_device)) /
        static_cast<float>(m_config.ropeScale);
    const torch::Tensor angles = torch::outer(positions, m_invFreq);  // [T, r/2]
    const torch::Tensor full = torch::cat({angles, angles}, -1);      // [T, r]
    const torch::Tensor cos = full.cos(), sin = full.sin();
    const torch::Tensor rotated = x.narrow(-1, 0, r);
    const torch::Tensor halfTurn = torch::cat({-rotated.narrow(-1, half, half), rotated.narrow(-1, 0, half)}, -1);
    const torch::Tensor out = rotated * cos + halfTurn * sin;
    if (r == x.size(-1)) return out;
    return torch::cat({out, x.narrow(-1, r, x.size(-1) - r)}, -1);
}

torch::Tensor RotaryDecoderModel::attention(const Block& b, int layer, const torch::Tensor& h,
                                            const ForwardOptions& options) const
{
    const int64_t batch = h.size(0), length = h.size(1), heads = m_config.headCount, kvHeads = m_config.kvHeadCount,
                  hd = m_config.headWidth;
    torch::Tensor q, k, v;
    if (b.qkvWeight.defined()) {  // NeoX: per head [q | k | v]
        const torch::Tensor qkv = torch::linear(h, b.qkvWeight, b.qkvBias).view({batch, length, heads, 3 * hd});
        q = qkv.narrow(-1, 0, hd).transpose(1, 2);
        k = qkv.narrow(-1, hd, hd).transpose(1, 2);
        v = qkv.narrow(-1, 2 * hd, hd).transpose(1, 2);
    } else {
        q = torch::linear(h, b.qWeight, b.qBias).view({batch, length, heads, hd});
        k = torch::linear(h, b.kWeight, b.kBias).view({batch, length, kvHeads, hd});
        v = torch::linear(h, b.vWeight, b.vBias).view({batch, length, kvHeads, hd}).transpose(1, 2);
        if (m_config.qkNorm) {  // Qwen3: over each head's dims, before RoPE
            q = rmsNorm(q, b.qNormWeight);
            k = rmsNorm(k, b.kNormWeight);
        }
        q = q.transpose(1, 2);
        k = k.transpose(1, 2);
    }
    q = rotate(q, options.startPosition);
    k = rotate(k, options.startPosition);
    if (options.cache) options.cache->extend(layer, k, v);
    if (kvHeads != heads) {  // GQA: query head i reads key/value head i / (H / KV)
        k = k.repeat_interleave(heads / kvHeads, 1);
        v = v.repeat_interleave(heads / kvHeads, 1);
    }
    const double scale =
        m_config.attentionScale > 0 ? m_config.attentionScale : 1.0 / std::sqrt(static_cast<double>(hd));
    torch::Tensor scores = softcap(queryKeyProducts(q, k).mul_(scale), m_config.attentionSoftcap);
    const int64_t keyLength = k.size(2);
    const bool sliding = m_config.slidingWindow && (!m_config.slidingEvenLayersOnly || layer % 2 == 0);
    if (length > 1 || sliding) {
        const auto options64 = torch::TensorOptions().dtype(torch::kInt64).device(m_device);
        const torch::Tensor queryPos = torch::arange(keyLength - length, keyLength, options64).view({-1, 1});
        const torch::Tensor keyPos = torch::arange(0, keyLength, options64).view({1, -1});
        torch::Tensor blocked = keyPos > queryPos;
        if (sliding) blocked = blocked.logical_or(queryPos - keyPos >= *m_config.slidingWindow);
        scores.masked_fill_(blocked, -std::numeric_limits<float>::infinity());
    }
    const torch::Tensor pattern = torch::softmax(scores, -1);
    if (options.capture && options.capture->wants(kCaptureAttnPattern))
        options.capture->put("attn_pattern." + std::to_string(layer), pattern);
    if (options.capture && options.capture->wants(kCaptureAttnLastRow))
        options.capture->put("attn_last_row." + std::to_string(layer), pattern.select(2, pattern.size(2) - 1));
    const torch::Tensor mixed = edited(EditSite::HeadOut, layer, mixValues(pattern, v).transpose(1, 2), options);
    return torch::linear(mixed.reshape({batch, length, heads * hd}), b.outWeight, b.outBias);
}

torch::Tensor RotaryDecoderModel::mlp(const Block& b, const torch::Tensor& h, const ForwardOptions& options,
                                      int layer) const
{
    const torch::Tensor act = edited(
        EditSite::MlpAct, layer,
        m_config.gatedMlp ? activate(m_config.activation, torch::linear(h, b.gateWeight)) * torch::linear(h, b.upWeight)
                          : activate(m_config.activation, torch::linear(h, b.upWeight, b.upBias)),
        options);
    if (options.capture && options.capture->wants(kCaptureMlpAct))
        options.capture->put("mlp_act." + std::to_string(layer), act);
    return torch::linear(act, b.downWeight, b.downBias);
}

torch::Tensor RotaryDecoderModel::forwardEmbeddings(const torch::Tensor& wordEmbeddings,
                                                    const ForwardOptions& options) const
{
    const int64_t length = wordEmbeddings.size(1);
    if (options.startPosition + length > m_config.contextLength)
        throw Error("sequence of " + std::to_string(options.startPosition + length) +
                    " tokens exceeds the model's context window of " + std::to_string(m_config.contextLength));
    ActivationCapture* capture = options.capture;
    auto keep = [&](CaptureKind kind, const std::string& name, const torch::Tensor& t) {
        if (capture && capture->wants(kind)) capture->put(name, t);
    };
    // Gemma: × float32(√D), rounded as transformers does (a float32 normaliser).
    torch::Tensor x = m_config.scaleEmbeddings
                          ? wordEmbeddings * static_cast<double>(std::sqrt(static_cast<float>(m_config.width)))
                          : wordEmbeddings;
    for (size_t i = 0; i < m_blocks.size(); ++i) {
        const Block& b = m_blocks[i];
        const int layer = static_cast<int>(i);
        const std::string index = std::to_string(i);
        x = edited(EditSite::ResidPre, layer, x, options);
        keep(kCaptureResidPre, "resid_pre." + index, x);
        torch::Tensor attnOut = attention(b, layer, norm(x, b.norm1Weight, b.norm1Bias), options);
        if (b.postAttnNormWeight.defined()) {
            keep(kCaptureAttnOut, "attn_raw." + index, attnOut);
            attnOut = rmsNorm(attnOut, b.postAttnNormWeight);
        }
        attnOut = edited(EditSite::AttnOut, layer, attnOut, options);
        keep(kCaptureAttnOut, "attn_out." + index, attnOut);
        torch::Tensor mlpOut;
        if (m_config.parallelResidual) {
            mlpOut =
                edited(EditSite::MlpOut, layer, mlp(b, norm(x, b.norm2Weight, b.norm2Bias), options, layer), options);
            x = x + attnOut + mlpOut;
        } else {
            const torch::Tensor mid = x + attnOut;
            mlpOut = mlp(b, norm(mid, b.norm2Weight, b.norm2Bias), options, layer);
            if (b.postMlpNormWeight.defined()) {
                keep(kCaptureMlpOut, "mlp_raw." + index, mlpOut);
                mlpOut = rmsNorm(mlpOut, b.postMlpNormWeight);
            }
            mlpOut = edited(EditSite::MlpOut, layer, mlpOut, options);
            x = mid + mlpOut;
        }
        keep(kCaptureMlpOut, "mlp_out." + index, mlpOut);
        keep(kCaptureResidPost, "resid_post." + index, x);
    }
    if (options.cache) options.cache->length = options.startPosition + length;
    const torch::Tensor normed = finalNorm(options.lastLogitsOnly ? x.narrow(1, length - 1, 1) : x);
    keep(kCaptureFinalNorm, "final_norm_out", normed);
    const torch::Tensor raw = unembedRaw(normed);
    if (m_config.finalSoftcap > 0) keep(kCaptureLogits, "logits_pre_softcap", raw);
    torch::Tensor logits = softcap(raw, m_config.finalSoftcap);
    keep(kCaptureLogits, "logits", logits);
    return logits;
}

torch::Tensor RotaryDecoderModel::finalNorm(const torch::Tensor& residual) const
{
    return norm(residual, m_finalWeight, m_finalBias);
}
torch::Tensor RotaryDecoderModel::unembedRaw(const torch::Tensor& normed) const
{
    return torch::matmul(normed, m_head.t());
}
// The lens reads every layer as the model reads its last: through the soft-cap too (Gemma 2).
torch::Tensor RotaryDecoderModel::unembed(const torch::Tensor& normed) const
{
    return softcap(unembedRaw(normed), m_config.finalSoftcap);
}
void RotaryDecoderModel::unembedTransposed(const torch::Tensor& normed, int64_t begin, torch::Tensor& out) const
{
    torch::mm_out(out, m_head.narrow(0, begin, out.size(0)), normed.t());
    if (m_config.finalSoftcap > 0) out.div_(m_config.finalSoftcap).tanh_().mul_(m_config.finalSoftcap);
}
torch::Tensor RotaryDecoderModel::mlpDownProjection(int layer) const
{
    return m_blocks.at(static_cast<size_t>(layer)).downWeight.t();
}

}  // namespace spyglass::core
