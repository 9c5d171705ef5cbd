#include "image/unet_blocks.h"

#include <cmath>

namespace spyglass::core {

namespace F = torch::nn::functional;

namespace {

// "<prefix>.attentions.j.transformer_blocks.b.attn2" for every block of every attention.
std::vector<std::string> attn2Names(const std::vector<Transformer2D>& attentions, const std::string& prefix)
{
    std::vector<std::string> names;
    for (size_t j = 0; j < attentions.size(); ++j)
        for (size_t b = 0; b < attentions[j].blocks.size(); ++b)
            names.push_back(prefix + ".attentions." + std::to_string(j) + ".transformer_blocks." + std::to_string(b) +
                            ".attn2");
    return names;
}

int assignCaptureIndices(std::vector<Transformer2D>& attentions, int next)
{
    for (auto& a : attentions)
        for (auto& index : a.captureIndex) index = next++;
    return next;
}

}  // namespace

ResnetBlock::ResnetBlock(const Weights& w, int64_t in, int64_t out, int64_t timeDim, int64_t groups, double eps)
    : norm1(w.at("norm1"), groups, in, eps),
      norm2(w.at("norm2"), groups, out, eps),
      conv1(w.at("conv1"), in, out, 3, 1, 1),
      conv2(w.at("conv2"), out, out, 3, 1, 1)
{
    if (timeDim > 0) timeProjection.emplace(w.at("time_emb_proj"), timeDim, out);
    if (in != out) shortcut.emplace(w.at("conv_shortcut"), in, out, 1);
}

torch::Tensor ResnetBlock::forward(const torch::Tensor& x, const torch::Tensor& timeEmbedding) const
{
    torch::Tensor h = conv1(torch::silu(norm1(x)));
    if (timeProjection && timeEmbedding.defined())
        h = h + (*timeProjection)(torch::silu(timeEmbedding)).unsqueeze(-1).unsqueeze(-1);
    h = conv2(torch::silu(norm2(h)));
    return (shortcut ? (*shortcut)(x) : x) + h;
}

Transformer2D::Transformer2D(const Weights& w, const UNetConfig& u, int64_t channels_, int64_t heads_, int64_t layers,
                             int64_t contextDim)
    : norm(w.at("norm"), u.groups, channels_, 1e-6), linear(u.linearProjection), heads(heads_), channels(channels_)
{
    if (linear) {
        projInLinear = Linear(w.at("proj_in"), channels, channels);
        projOutLinear = Linear(w.at("proj_out"), channels, channels);
    } else {
        projInConv = Conv2d(w.at("proj_in"), channels, channels, 1);
        projOutConv = Conv2d(w.at("proj_out"), channels, channels, 1);
    }
    for (int64_t i = 0; i < layers; ++i) {
        const Weights b = w.at("transformer_blocks." + std::to_string(i));
        const int64_t c = channels;
        blocks.push_back({LayerNorm(b.at("norm1"), c, 1e-5), LayerNorm(b.at("norm2"), c, 1e-5),
                          LayerNorm(b.at("norm3"), c, 1e-5), Linear(b.at("attn1.to_q"), c, c, false),
                          Linear(b.at("attn1.to_k"), c, c, false), Linear(b.at("attn1.to_v"), c, c, false),
                          Linear(b.at("attn1.to_out.0"), c, c), Linear(b.at("attn2.to_q"), c, c, false),
                          Linear(b.at("attn2.to_k"), contextDim, c, false),
                          Linear(b.at("attn2.to_v"), contextDim, c, false), Linear(b.at("attn2.to_out.0"), c, c),
                          Linear(b.at("ff.net.0.proj"), c, 8 * c), Linear(b.at("ff.net.2"), 4 * c, c)});
        captureIndex.push_back(-1);
    }
}

torch::Tensor Transformer2D::forward(const torch::Tensor& x, const torch::Tensor& context,
                                     const CrossAttentionSink& sink) const
{
    const int64_t b = x.size(0), height = x.size(2), width = x.size(3);
    const double scale = 1.0 / std::sqrt(static_cast<double>(channels / heads));
    torch::Tensor h = norm(x);
    if (linear) {
        h = projInLinear(h.permute({0, 2, 3, 1}).reshape({b, height * width, channels}));
    } else {
        h = projInConv(h).permute({0, 2, 3, 1}).reshape({b, height * width, channels});
    }
    for (size_t i = 0; i < blocks.size(); ++i) {
        const Block& blk = blocks[i];
        torch::Tensor n = blk.norm1(h);
        torch::Tensor a = scaledAttention(headsToBatch(blk.q1(n), heads), headsToBatch(blk.k1(n), heads),
                                          headsToBatch(blk.v1(n), heads), scale);
        h = blk.out1(batchToHeads(a, heads)) + h;
        n = blk.norm2(h);
        torch::Tensor probs;
        const bool record = sink && captureIndex[i] >= 0;
        a = scaledAttention(headsToBatch(blk.q2(n), heads), headsToBatch(blk.k2(context), heads),
                            headsToBatch(blk.v2(context), heads), scale, record ? &probs : nullptr);
        if (record) sink(captureIndex[i], probs, height, width);
        h = blk.out2(batchToHeads(a, heads)) + h;
        const auto parts = blk.geglu(blk.norm3(h)).chunk(2, -1);
        h = blk.ffOut(parts[0] * torch::gelu(parts[1])) + h;
    }
    if (linear) {
        h = projOutLinear(h).reshape({b, height, width, channels}).permute({0, 3, 1, 2});
    } else {
        h = projOutConv(h.reshape({b, height, width, channels}).permute({0, 3, 1, 2}).contiguous());
    }
    return h + x;
}

UNetDownBlock::UNetDownBlock(const Weights& w, const UNetConfig& u, size_t level, int64_t in, int64_t timeDim)
{
    const int64_t out = u.blockOut[level];
    const bool cross = u.downTypes[level] == "CrossAttnDownBlock2D";
    for (int64_t j = 0; j < u.layersPerBlock[level]; ++j) {
        m_resnets.emplace_back(w.at("resnets." + std::to_string(j)), j == 0 ? in : out, out, timeDim, u.groups, u.eps);
        if (cross)
            m_attentions.emplace_back(w.at("attentions." + std::to_string(j)), u, out, u.heads[level],
                                      u.transformerLayers[level], u.crossAttentionDim[level]);
    }
    if (level + 1 < u.blockOut.size())
        m_downsample.emplace(w.at("downsamplers.0.conv"), out, out, 3, 2, u.downsamplePadding);
}

torch::Tensor UNetDownBlock::forward(torch::Tensor h, const torch::Tensor& emb, const torch::Tensor& context,
                                     std::vector<torch::Tensor>& skips, const CrossAttentionSink& sink) const
{
    for (size_t j = 0; j < m_resnets.size(); ++j) {
        h = m_resnets[j].forward(h, emb);
        if (!m_attentions.empty()) h = m_attentions[j].forward(h, context, sink);
        skips.push_back(h);
    }
    if (m_downsample) {
        h = (*m_downsample)(h);
        skips.push_back(h);
    }
    return h;
}

std::vector<std::string> UNetDownBlock::crossAttentionNames(const std::string& prefix) const
{
    return attn2Names(m_attentions, prefix);
}
int UNetDownBlock::assignCrossAttentionIndices(int next)
{
    return assignCaptureIndices(m_attentions, next);
}

UNetMidBlock::UNetMidBlock(const Weights& w, const UNetConfig& u, int64_t timeDim)
    : m_first(w.at("resnets.0"), u.blockOut.back(), u.blockOut.back(), timeDim, u.groups, u.eps),
      m_second(w.at("resnets.1"), u.blockOut.back(), u.blockOut.back(), timeDim, u.groups, u.eps),
      m_attention(w.at("attentions.0"), u, u.blockOut.back(), u.heads.back(), u.transformerLayers.back(),
                  u.crossAttentionDim.back())
{
}

torch::Tensor UNetMidBlock::forward(torch::Tensor h, const torch::Tensor& emb, const torch::Tensor& context) const
{
    h = m_first.forward(h, emb);
    h = m_attention.forward(h, context, {});
    return m_second.forward(h, emb);
}

UNetUpBlock::UNetUpBlock(const Weights& w, const UNetConfig& u, size_t index, int64_t previous, int64_t timeDim)
{
    const size_t n = u.blockOut.size();
    const size_t level = n - 1 - index;  // the down level this block mirrors
    const int64_t out = u.blockOut[level];
    const int64_t in = u.blockOut[level == 0 ? 0 : level - 1];
    const bool cross = u.upTypes[index] == "CrossAttnUpBlock2D";
    const int64_t layers = u.layersPerBlock[level] + 1;
    for (int64_t j = 0; j < layers; ++j) {
        const int64_t skip = j == layers - 1 ? in : out;
        const int64_t resnetIn = j == 0 ? previous : out;
        m_resnets.emplace_back(w.at("resnets." + std::to_string(j)), resnetIn + skip, out, timeDim, u.groups, u.eps);
        if (cross)
            m_attentions.emplace_back(w.at("attentions." + std::to_string(j)), u, out, u.heads[level],
                                      u.transformerLayers[level], u.crossAttentionDim[level]);
    }
    if (index + 1 < n) m_upsample.emplace(w.at("upsamplers.0.conv"), out, out, 3, 1, 1);
}

torch::Tensor UNetUpBlock::forward(torch::Tensor h, const torch::Tensor& emb, const torch::Tensor& context,
                                   std::vector<torch::Tensor>& skips, const CrossAttentionSink& sink) const
{
    for (size_t j = 0; j < m_resnets.size(); ++j) {
        h = torch::cat({h, skips.back()}, 1);
        skips.pop_back();
        h = m_resnets[j].forward(h, emb);
        if (!m_attentions.empty()) h = m_attentions[j].forward(h, context, sink);
    }
    if (m_upsample) {
        // To the size of the skip it meets next (×2 unless a side was odd).
        const auto& next = skips.back();
        h = F::interpolate(
            h,
            F::InterpolateFuncOptions().size(std::vector<int64_t>{next.size(2), next.size(3)}).mode(torch::kNearest));
        h = (*m_upsample)(h);
    }
    return h;
}

std::vector<std::string> UNetUpBlock::crossAttentionNames(const std::string& prefix) const
{
    return attn2Names(m_attentions, prefix);
}
int UNetUpBlock::assignCrossAttentionIndices(int next)
{
    return assignCaptureIndices(m_attentions, next);
}

}  // namespace spyglass::core
