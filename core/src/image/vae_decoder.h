#pragma once
// VaeDecoder — the decoder half of diffusers' AutoencoderKL (vae/): post_quant_conv, conv_in,
// mid block (ResNet, single-head attention, ResNet), UpDecoderBlock2Ds, GroupNorm, SiLU,
// conv_out. Sizes from config.json; old attention names (query/key/value/proj_attn) accepted.
// Thread safety: immutable after load; decode() is reentrant.
#include "image/unet_blocks.h"

#include <filesystem>
#include <memory>

namespace spyglass::core {

class VaeDecoder {
public:
    static std::unique_ptr<VaeDecoder> load(const std::filesystem::path& dir, torch::Device device);
    // From a config and weights (loaded, or trainable: see ParameterSet).
    static std::unique_ptr<VaeDecoder> build(const ConfigReader& config, const Weights& weights);

    // latents [B, C, h, w] (already divided by the scaling factor) → image [B, 3, h·f, w·f] in about [−1, 1].
    [[nodiscard]] torch::Tensor decode(const torch::Tensor& latents) const;
    [[nodiscard]] double scalingFactor() const { return m_scaling; }
    [[nodiscard]] int64_t latentChannels() const { return m_latentChannels; }
    // Pixels per latent (2^(blocks − 1)).
    [[nodiscard]] int64_t scaleFactor() const { return m_scaleFactor; }

private:
    struct Attention {
        GroupNorm norm;
        Linear q, k, v, out;
    };
    [[nodiscard]] torch::Tensor attend(const torch::Tensor& x) const;

    double m_scaling = 0.18215;
    int64_t m_latentChannels = 4;
    int64_t m_scaleFactor = 8;
    Conv2d m_postQuant, m_convIn, m_convOut;
    ResnetBlock m_mid1, m_mid2;
    std::optional<Attention> m_attention;
    struct Up {
        std::vector<ResnetBlock> resnets;
        std::optional<Conv2d> upsample;
    };
    std::vector<Up> m_up;
    GroupNorm m_normOut;
};

}  // namespace spyglass::core
