#include "image/unet_model.h"

#include "image/component_loader.h"
#include "image/config_reader.h"
#include "image/unet_blocks.h"
#include "spyglass/error.h"

#include <cmath>

namespace spyglass::core {

struct UNetModel::Impl {
    UNetConfig config;
    Linear time1, time2;
    // SDXL's "text_time" added embedding: sinusoids of the 6 size/crop numbers after the pooled
    // text embeddings, through add_embedding.linear_1 / linear_2, added to the time embedding.
    int64_t addTimeDim = 0, addInput = 0;
    Linear add1, add2;
    // LCM-distilled UNets (time_cond_proj_dim): a guidance embedding through time_embedding.cond_proj
    // (no bias), added to the timestep's sinusoids before linear_1.
    int64_t condDim = 0;
    Linear condProj;
    Conv2d convIn, convOut;
    GroupNorm normOut;
    std::vector<UNetDownBlock> down;
    std::optional<UNetMidBlock> mid;
    std::vector<UNetUpBlock> up;
    std::vector<CrossAttentionLayer> layers;
};

namespace {

UNetConfig readConfig(const ConfigReader& c)
{
    UNetConfig u;
    u.inChannels = c.integer("in_channels", 4);
    u.outChannels = c.integer("out_channels", 4);
    u.sampleSize = c.integer("sample_size", 64);
    u.blockOut = c.integers("block_out_channels", 0, {320, 640, 1280, 1280});
    const size_t n = u.blockOut.size();
    u.downTypes = c.has("down_block_types") ? c.strings("down_block_types")
                                            : std::vector<std::string>{"CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                                                       "CrossAttnDownBlock2D", "DownBlock2D"};
    u.upTypes = c.has("up_block_types") ? c.strings("up_block_types")
                                        : std::vector<std::string>{"UpBlock2D", "CrossAttnUpBlock2D",
                                                                   "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"};
    if (u.downTypes.size() != n || u.upTypes.size() != n)
        c.fail("down_block_types and up_block_types must have one entry per block_out_channels entry (" +
               std::to_string(n) + ")");
    for (const auto& t : u.downTypes)
        if (t != "CrossAttnDownBlock2D" && t != "DownBlock2D")
            c.fail("down block type '" + t + "' is not supported (CrossAttnDownBlock2D, DownBlock2D)");
    for (const auto& t : u.upTypes)
        if (t != "CrossAttnUpBlock2D" && t != "UpBlock2D")
            c.fail("up block type '" + t + "' is not supported (CrossAttnUpBlock2D, UpBlock2D)");
    u.midType = c.string("mid_block_type", "UNetMidBlock2DCrossAttn");
    if (c.has("mid_block_type") && u.midType != "UNetMidBlock2DCrossAttn")
        c.fail("mid_block_type '" + u.midType + "' is not supported (UNetMidBlock2DCrossAttn)");
    if (c.json().contains("mid_block_type") && c.json()["mid_block_type"].is_null()) u.midType.clear();
    u.layersPerBlock = c.integers("layers_per_block", n, {2});
    if (u.layersPerBlock.size() == 1 && n > 1) u.layersPerBlock.assign(n, u.layersPerBlock.front());
    u.transformerLayers = c.integers("transformer_layers_per_block", n, {1});
    if (u.transformerLayers.size() == 1 && n > 1) u.transformerLayers.assign(n, u.transformerLayers.front());
    u.crossAttentionDim = c.integers("cross_attention_dim", n, {1280});
    if (u.crossAttentionDim.size() == 1 && n > 1) u.crossAttentionDim.assign(n, u.crossAttentionDim.front());
    // Legacy naming: attention_head_dim is the number of heads unless num_attention_heads is set.
    u.heads =
        c.has("num_attention_heads") ? c.integers("num_attention_heads", n) : c.integers("attention_head_dim", n, {8});
    if (u.heads.size() == 1 && n > 1) u.heads.assign(n, u.heads.front());
    for (size_t i = 0; i < n; ++i)
        if (u.blockOut[i] % u.heads[i] != 0)
            c.fail("block_out_channels[" + std::to_string(i) + "] is not a multiple of its number of attention heads");
    u.groups = c.integer("norm_num_groups", 32);
    for (int64_t ch : u.blockOut)
        if (u.groups == 0 || ch % u.groups != 0) c.fail("block_out_channels must be multiples of norm_num_groups");
    u.eps = c.number("norm_eps", 1e-5);
    u.linearProjection = c.boolean("use_linear_projection", false);
    u.flipSinToCos = c.boolean("flip_sin_to_cos", true);
    u.freqShift = c.number("freq_shift", 0);
    u.downsamplePadding = c.integer("downsample_padding", 1);
    u.centerInput = c.boolean("center_input_sample", false);
    if (c.integer("conv_in_kernel", 3) != 3 || c.integer("conv_out_kernel", 3) != 3)
        c.fail("only 3x3 conv_in/conv_out kernels are supported");
    if (c.string("act_fn", "silu") != "silu") c.fail("act_fn must be silu");
    if (c.string("time_embedding_type", "positional") != "positional") c.fail("time_embedding_type must be positional");
    if (c.string("resnet_time_scale_shift", "default") != "default") c.fail("resnet_time_scale_shift must be default");
    if (c.has("class_embed_type")) c.fail("class embeddings (class_embed_type) are not supported");
    if (c.has("addition_embed_type") && c.string("addition_embed_type", "") != "text_time")
        c.fail("addition_embed_type '" + c.string("addition_embed_type", "") +
               "' is not supported (text_time, SDXL's)");
    if (c.boolean("dual_cross_attention", false) || c.boolean("only_cross_attention", false))
        c.fail("dual/only cross-attention is not supported");
    if (c.has("encoder_hid_dim")) c.fail("encoder_hid_dim is not supported");
    return u;
}

torch::Tensor timestepEmbedding(const torch::Tensor& t, int64_t dim, bool flip, double shift,
                                const torch::TensorOptions& options)
{
    const int64_t half = dim / 2;
    const torch::Tensor exponent =
        -std::log(10000.0) * torch::arange(0, half, torch::kFloat32) / (static_cast<double>(half) - shift);
    const torch::Tensor e = t.to(torch::kCPU, torch::kFloat32).unsqueeze(1) * exponent.exp().unsqueeze(0);
    torch::Tensor emb = torch::cat({e.sin(), e.cos()}, -1);
    if (flip) emb = torch::cat({emb.slice(1, half), emb.slice(1, 0, half)}, -1);
    if (dim % 2 == 1) emb = torch::nn::functional::pad(emb, torch::nn::functional::PadFuncOptions({0, 1}));
    return emb.to(options);
}

}  // namespace

UNetModel::~UNetModel() = default;

std::unique_ptr<UNetModel> UNetModel::load(const std::filesystem::path& dir, torch::Device device,
                                           const StoreAdjust& adjust)
{
    return loadComponent<UNetModel>(dir, device, adjust);
}

std::unique_ptr<UNetModel> UNetModel::build(const ConfigReader& c, const Weights& weights)
{
    auto model = std::unique_ptr<UNetModel>(new UNetModel);
    model->m_impl = std::make_unique<Impl>();
    Impl& m = *model->m_impl;
    m.config = readConfig(c);
    const UNetConfig& u = m.config;
    {
        const Weights& w = weights;
        const int64_t base = u.blockOut.front();
        const int64_t timeDim = base * 4;
        m.time1 = Linear(w.at("time_embedding.linear_1"), base, timeDim);
        m.time2 = Linear(w.at("time_embedding.linear_2"), timeDim, timeDim);
        if (c.has("time_cond_proj_dim")) {
            m.condDim = c.integer("time_cond_proj_dim", 0);
            if (m.condDim < 1 || m.condDim > 65536) c.fail("time_cond_proj_dim must be between 1 and 65536");
            m.condProj = Linear(w.at("time_embedding.cond_proj"), m.condDim, base, false);
        }
        if (c.string("addition_embed_type", "") == "text_time") {
            m.addTimeDim = c.integer("addition_time_embed_dim", 0);
            m.addInput = c.integer("projection_class_embeddings_input_dim", 0);
            if (m.addTimeDim < 1 || m.addInput <= 6 * m.addTimeDim)
                c.fail(
                    "text_time needs addition_time_embed_dim ≥ 1 and projection_class_embeddings_input_dim larger "
                    "than 6 · addition_time_embed_dim");
            m.add1 = Linear(w.at("add_embedding.linear_1"), m.addInput, timeDim);
            m.add2 = Linear(w.at("add_embedding.linear_2"), timeDim, timeDim);
        }
        m.convIn = Conv2d(w.at("conv_in"), u.inChannels, base, 3, 1, 1);
        const size_t n = u.blockOut.size();
        int64_t channels = base;
        std::vector<CrossAttentionLayer> downLayers;
        for (size_t i = 0; i < n; ++i) {
            const std::string prefix = "down_blocks." + std::to_string(i);
            m.down.emplace_back(w.at(prefix), u, i, channels, timeDim);
            for (const auto& name : m.down.back().crossAttentionNames(prefix))
                downLayers.push_back({name, "down", u.heads[i]});
            channels = u.blockOut[i];
        }
        if (!u.midType.empty()) m.mid.emplace(w.at("mid_block"), u, timeDim);
        std::vector<int64_t> reversed(u.blockOut.rbegin(), u.blockOut.rend());
        int64_t previous = reversed.front();
        for (size_t i = 0; i < n; ++i) {
            const std::string prefix = "up_blocks." + std::to_string(i);
            m.up.emplace_back(w.at(prefix), u, i, previous, timeDim);
            const size_t level = n - 1 - i;
            for (const auto& name : m.up.back().crossAttentionNames(prefix))
                m.layers.push_back({name, "up", u.heads[level]});
            previous = reversed[i];
        }
        m.layers.insert(m.layers.end(), downLayers.begin(), downLayers.end());
        // Tell each block where its cross-attention layers sit in DAAM order.
        int index = 0;
        for (auto& block : m.up) index = block.assignCrossAttentionIndices(index);
        for (auto& block : m.down) index = block.assignCrossAttentionIndices(index);
        m.normOut = GroupNorm(w.at("conv_norm_out"), u.groups, base, u.eps);
        m.convOut = Conv2d(w.at("conv_out"), base, u.outChannels, 3, 1, 1);
    }
    return model;
}

torch::Tensor UNetModel::forward(const torch::Tensor& sample, double timestep, const torch::Tensor& context,
                                 const CrossAttentionSink& sink, const AddedConditioning& added) const
{
    return forward(sample, torch::full({sample.size(0)}, timestep, torch::kFloat64).to(torch::kFloat32), context, sink,
                   added);
}

torch::Tensor UNetModel::forward(const torch::Tensor& sample, const torch::Tensor& timesteps,
                                 const torch::Tensor& context, const CrossAttentionSink& sink,
                                 const AddedConditioning& added) const
{
    const Impl& m = *m_impl;
    const UNetConfig& u = m.config;
    torch::Tensor emb = timestepEmbedding(timesteps, u.blockOut.front(), u.flipSinToCos, u.freqShift, sample.options());
    if (m.condDim > 0) {
        if (!added.timeCondition.defined() ||
            added.timeCondition.sizes() != torch::IntArrayRef{sample.size(0), m.condDim})
            throw Error("this UNet (LCM-distilled: time_cond_proj_dim " + std::to_string(m.condDim) +
                        ") needs a guidance embedding per batch entry");
        emb = emb + m.condProj(added.timeCondition);
    }
    emb = m.time2(torch::silu(m.time1(emb)));
    if (m.addTimeDim > 0) {
        const int64_t b = sample.size(0);
        if (!added.textEmbeds.defined() || !added.timeIds.defined())
            throw Error("this UNet (SDXL's text_time) needs pooled text embeddings and size/crop time ids");
        if (added.timeIds.sizes() != torch::IntArrayRef{b, 6} ||
            added.textEmbeds.sizes() != torch::IntArrayRef{b, m.addInput - 6 * m.addTimeDim})
            throw Error("the UNet's added conditioning has the wrong shape");
        const torch::Tensor ids =
            timestepEmbedding(added.timeIds.flatten(), m.addTimeDim, u.flipSinToCos, u.freqShift, sample.options())
                .reshape({b, -1});
        emb = emb + m.add2(torch::silu(m.add1(torch::cat({added.textEmbeds, ids}, -1))));
    }
    torch::Tensor h = u.centerInput ? 2 * sample - 1.0 : sample;
    h = m.convIn(h);
    std::vector<torch::Tensor> skips{h};
    for (const auto& block : m.down) h = block.forward(h, emb, context, skips, sink);
    if (m.mid) h = m.mid->forward(h, emb, context);
    for (const auto& block : m.up) h = block.forward(h, emb, context, skips, sink);
    return m.convOut(torch::silu(m.normOut(h)));
}

int64_t UNetModel::pooledWidth() const
{
    return m_impl->addTimeDim > 0 ? m_impl->addInput - 6 * m_impl->addTimeDim : 0;
}

int64_t UNetModel::timeConditionWidth() const
{
    return m_impl->condDim;
}

torch::Tensor guidanceScaleEmbedding(double w, int64_t dim)
{
    // diffusers' get_guidance_scale_embedding: sinusoids of 1000 · w at dim/2 frequencies.
    const int64_t half = dim / 2;
    const torch::Tensor scale = torch::tensor(std::log(10000.0F)) / static_cast<float>(std::max<int64_t>(1, half - 1));
    const torch::Tensor freqs = (torch::arange(half, torch::kFloat32) * -scale).exp();
    const torch::Tensor e = torch::tensor(static_cast<float>(w)) * 1000.0F * freqs;
    torch::Tensor emb = torch::cat({e.sin(), e.cos()}).unsqueeze(0);
    if (dim % 2 == 1) emb = torch::nn::functional::pad(emb, torch::nn::functional::PadFuncOptions({0, 1}));
    return emb;
}

int64_t UNetModel::inChannels() const
{
    return m_impl->config.inChannels;
}
int64_t UNetModel::sampleSize() const
{
    return m_impl->config.sampleSize;
}
int64_t UNetModel::contextWidth() const
{
    return m_impl->config.crossAttentionDim.front();
}
const std::vector<CrossAttentionLayer>& UNetModel::crossAttentionLayers() const
{
    return m_impl->layers;
}

int64_t UNetModel::downsampleFactor() const
{
    int64_t f = 1;
    for (size_t i = 0; i + 1 < m_impl->config.blockOut.size(); ++i) f *= 2;
    return f;
}

}  // namespace spyglass::core
