#include "image/vae_decoder.h"

#include "image/component_loader.h"
#include "image/config_reader.h"
#include "spyglass/error.h"

#include <cmath>

namespace spyglass::core {

namespace F = torch::nn::functional;

std::unique_ptr<VaeDecoder> VaeDecoder::load(const std::filesystem::path& dir, torch::Device device)
{
    return loadComponent<VaeDecoder>(dir, device);
}

std::unique_ptr<VaeDecoder> VaeDecoder::build(const ConfigReader& c, const Weights& weights)
{
    const std::vector<int64_t> blockOut = c.integers("block_out_channels", 0, {64});
    const size_t n = blockOut.size();
    const std::vector<std::string> upTypes =
        c.has("up_block_types") ? c.strings("up_block_types") : std::vector<std::string>(n, "UpDecoderBlock2D");
    if (upTypes.size() != n) c.fail("up_block_types must have one entry per block_out_channels entry");
    for (const auto& t : upTypes)
        if (t != "UpDecoderBlock2D") c.fail("up block type '" + t + "' is not supported (UpDecoderBlock2D)");
    const int64_t layers = c.integer("layers_per_block", 1);
    const int64_t groups = c.integer("norm_num_groups", 32);
    for (int64_t ch : blockOut)
        if (groups == 0 || ch % groups != 0) c.fail("block_out_channels must be multiples of norm_num_groups");
    if (c.string("act_fn", "silu") != "silu") c.fail("act_fn must be silu");
    auto d = std::unique_ptr<VaeDecoder>(new VaeDecoder);
    d->m_latentChannels = c.integer("latent_channels", 4);
    d->m_scaling = c.number("scaling_factor", 0.18215);
    if (!(d->m_scaling > 0)) c.fail("scaling_factor must be positive");
    d->m_scaleFactor = int64_t{1} << (n - 1);
    const int64_t outChannels = c.integer("out_channels", 3);
    if (outChannels != 3) c.fail("out_channels must be 3 (RGB)");
    {
        const Weights& w = weights;
        const Weights dec = w.at("decoder");
        const int64_t top = blockOut.back();
        d->m_postQuant = Conv2d(w.at("post_quant_conv"), d->m_latentChannels, d->m_latentChannels, 1);
        d->m_convIn = Conv2d(dec.at("conv_in"), d->m_latentChannels, top, 3, 1, 1);
        d->m_mid1 = ResnetBlock(dec.at("mid_block.resnets.0"), top, top, 0, groups, 1e-6);
        d->m_mid2 = ResnetBlock(dec.at("mid_block.resnets.1"), top, top, 0, groups, 1e-6);
        if (c.boolean("mid_block_add_attention", true)) {
            const Weights a = dec.at("mid_block.attentions.0");
            const bool current = a.has("to_q.weight");
            d->m_attention = Attention{
                GroupNorm(a.at("group_norm"), groups, top, 1e-6), Linear(a.at(current ? "to_q" : "query"), top, top),
                Linear(a.at(current ? "to_k" : "key"), top, top), Linear(a.at(current ? "to_v" : "value"), top, top),
                Linear(a.at(current ? "to_out.0" : "proj_attn"), top, top)};
        }
        int64_t previous = top;
        for (size_t i = 0; i < n; ++i) {
            const int64_t out = blockOut[n - 1 - i];
            Up up;
            const Weights b = dec.at("up_blocks." + std::to_string(i));
            for (int64_t j = 0; j <= layers; ++j)
                up.resnets.emplace_back(b.at("resnets." + std::to_string(j)), j == 0 ? previous : out, out, 0, groups,
                                        1e-6);
            if (i + 1 < n) up.upsample.emplace(b.at("upsamplers.0.conv"), out, out, 3, 1, 1);
            d->m_up.push_back(std::move(up));
            previous = out;
        }
        d->m_normOut = GroupNorm(dec.at("conv_norm_out"), groups, blockOut.front(), 1e-6);
        d->m_convOut = Conv2d(dec.at("conv_out"), blockOut.front(), outChannels, 3, 1, 1);
    }
    return d;
}

torch::Tensor VaeDecoder::attend(const torch::Tensor& x) const
{
    const Attention& a = *m_attention;
    const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    const torch::Tensor n = a.norm(x).view({b, c, h * w}).transpose(1, 2);
    const torch::Tensor out = scaledAttention(a.q(n), a.k(n), a.v(n), 1.0 / std::sqrt(static_cast<double>(c)));
    return a.out(out).transpose(1, 2).reshape({b, c, h, w}) + x;
}

torch::Tensor VaeDecoder::decode(const torch::Tensor& latents) const
{
    torch::Tensor h = m_convIn(m_postQuant(latents));
    h = m_mid1.forward(h);
    if (m_attention) h = attend(h);
    h = m_mid2.forward(h);
    for (const Up& up : m_up) {
        for (const auto& r : up.resnets) h = r.forward(h);
        if (up.upsample)
            h = (*up.upsample)(F::interpolate(
                h, F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest)));
    }
    return m_convOut(torch::silu(m_normOut(h)));
}

}  // namespace spyglass::core
