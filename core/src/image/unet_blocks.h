#pragma once
// The blocks of UNetModel (diffusers names): ResnetBlock (also used by the VAE), Transformer2D
// (GroupNorm, proj_in, BasicTransformerBlocks, proj_out, residual), and the down, mid and up
// blocks with their skip connections.
#include "image/nn_layers.h"
#include "image/unet_model.h"

#include <optional>
#include <string>
#include <vector>

namespace spyglass::core {

struct UNetConfig {
    int64_t inChannels = 4, outChannels = 4, sampleSize = 64;
    std::vector<int64_t> blockOut, layersPerBlock, transformerLayers, crossAttentionDim, heads;
    std::vector<std::string> downTypes, upTypes;
    std::string midType;
    int64_t groups = 32;
    double eps = 1e-5;
    bool linearProjection = false, flipSinToCos = true, centerInput = false;
    double freqShift = 0;
    int64_t downsamplePadding = 1;
};

struct ResnetBlock {
    GroupNorm norm1, norm2;
    Conv2d conv1, conv2;
    std::optional<Linear> timeProjection;
    std::optional<Conv2d> shortcut;
    ResnetBlock() = default;
    // timeDim 0: no time embedding (VAE).
    ResnetBlock(const Weights& w, int64_t in, int64_t out, int64_t timeDim, int64_t groups, double eps);
    [[nodiscard]] torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& timeEmbedding = {}) const;
};

struct Transformer2D {
    struct Block {
        LayerNorm norm1, norm2, norm3;
        Linear q1, k1, v1, out1, q2, k2, v2, out2, geglu, ffOut;
    };
    GroupNorm norm;
    Linear projInLinear, projOutLinear;
    Conv2d projInConv, projOutConv;
    bool linear = false;
    int64_t heads = 8, channels = 0;
    std::vector<Block> blocks;
    std::vector<int> captureIndex;  // per block: DAAM layer index of its attn2, −1 when not recorded
    Transformer2D() = default;
    Transformer2D(const Weights& w, const UNetConfig& u, int64_t channels, int64_t heads, int64_t layers,
                  int64_t contextDim);
    [[nodiscard]] torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context,
                                        const CrossAttentionSink& sink) const;
};

class UNetDownBlock {
public:
    UNetDownBlock(const Weights& w, const UNetConfig& u, size_t level, int64_t in, int64_t timeDim);
    // Appends the skip tensors of this block to `skips`.
    [[nodiscard]] torch::Tensor forward(torch::Tensor h, const torch::Tensor& emb, const torch::Tensor& context,
                                        std::vector<torch::Tensor>& skips, const CrossAttentionSink& sink) const;
    [[nodiscard]] std::vector<std::string> crossAttentionNames(const std::string& prefix) const;
    int assignCrossAttentionIndices(int next);

private:
    std::vector<ResnetBlock> m_resnets;
    std::vector<Transformer2D> m_attentions;
    std::optional<Conv2d> m_downsample;
};

class UNetMidBlock {
public:
    UNetMidBlock(const Weights& w, const UNetConfig& u, int64_t timeDim);
    [[nodiscard]] torch::Tensor forward(torch::Tensor h, const torch::Tensor& emb, const torch::Tensor& context) const;

private:
    ResnetBlock m_first, m_second;
    Transformer2D m_attention;
};

class UNetUpBlock {
public:
    UNetUpBlock(const Weights& w, const UNetConfig& u, size_t index, int64_t previous, int64_t timeDim);
    // Pops its skip tensors from the end of `skips`.
    [[nodiscard]] torch::Tensor forward(torch::Tensor h, const torch::Tensor& emb, const torch::Tensor& context,
                                        std::vector<torch::Tensor>& skips, const CrossAttentionSink& sink) const;
    [[nodiscard]] std::vector<std::string> crossAttentionNames(const std::string& prefix) const;
    int assignCrossAttentionIndices(int next);

private:
    std::vector<ResnetBlock> m_resnets;
    std::vector<Transformer2D> m_attentions;
    std::optional<Conv2d> m_upsample;
};

}  // namespace spyglass::core
