#include "image/ldm_checkpoint.h"

#include "spyglass/error.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

namespace spyglass::core {

namespace {

using Shapes = std::map<std::string, std::vector<int64_t>>;

bool startsWith(const std::string& s, const std::string& prefix)
{
    return s.compare(0, prefix.size(), prefix) == 0;
}

// The keys under `prefix`, with the prefix removed.
Shapes under(const Shapes& all, const std::string& prefix)
{
    Shapes out;
    for (auto it = all.lower_bound(prefix); it != all.end() && startsWith(it->first, prefix); ++it)
        out.emplace(it->first.substr(prefix.size()), it->second);
    return out;
}

// "12.rest" → (12, "rest"); nullopt when the key does not start with a number and a dot.
std::optional<std::pair<int64_t, std::string>> leadingIndex(const std::string& key)
{
    const size_t dot = key.find('.');
    if (dot == 0 || dot == std::string::npos || dot > 6) return std::nullopt;
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + dot, value);
    if (ec != std::errc() || end != key.data() + dot) return std::nullopt;
    return std::make_pair(value, key.substr(dot + 1));
}

// The largest N + 1 of the keys "N.…", 0 when none.
int64_t indexCount(const Shapes& keys)
{
    int64_t n = 0;
    for (const auto& [key, shape] : keys)
        if (const auto index = leadingIndex(key)) n = std::max(n, index->first + 1);
    return n;
}

class Mapper {
public:
    Mapper(std::string file, std::string prefix, LdmComponent& out)
        : m_file(std::move(file)), m_prefix(std::move(prefix)), m_out(out)
    {
    }

    void add(const std::string& target, const std::string& key, bool squeeze = false)
    {
        m_out.keys[target] = LdmSource{m_prefix + key, squeeze, -1, false};
    }
    void addSlice(const std::string& target, const std::string& key, int slice)
    {
        m_out.keys[target] = LdmSource{m_prefix + key, false, slice, false};
    }
    void addTransposed(const std::string& target, const std::string& key)
    {
        m_out.keys[target] = LdmSource{m_prefix + key, false, -1, true};
    }
    [[noreturn]] void fail(const std::string& key, const std::string& reason) const
    {
        throw Error(m_file + ": key '" + m_prefix + key + "' " + reason);
    }
    [[nodiscard]] const std::string& prefix() const { return m_prefix; }

private:
    std::string m_file, m_prefix;
    LdmComponent& m_out;
};

// LDM resnet names → diffusers (UNet ResBlock).
std::string unetResnetName(const Mapper& m, const std::string& fullKey, const std::string& rest)
{
    static const std::vector<std::pair<std::string, std::string>> renames{
        {"in_layers.0.", "norm1."},  {"in_layers.2.", "conv1."},  {"emb_layers.1.", "time_emb_proj."},
        {"out_layers.0.", "norm2."}, {"out_layers.3.", "conv2."}, {"skip_connection.", "conv_shortcut."}};
    for (const auto& [from, to] : renames)
        if (startsWith(rest, from)) return to + rest.substr(from.size());
    m.fail(fullKey, "is not a part of a UNet resnet block");
}

// VAE resnets keep their names except the shortcut.
std::string vaeResnetName(const std::string& rest)
{
    return startsWith(rest, "nin_shortcut.") ? "conv_shortcut." + rest.substr(13) : rest;
}

std::vector<int64_t> shapeOf(const Shapes& keys, const std::string& key, const Mapper& m)
{
    const auto it = keys.find(key);
    if (it == keys.end()) m.fail(key, "is missing");
    return it->second;
}

int64_t dimOf(const Shapes& keys, const std::string& key, size_t axis, const Mapper& m)
{
    const auto shape = shapeOf(keys, key, m);
    if (shape.size() <= axis) m.fail(key, "has too few dimensions");
    return shape[axis];
}

// `pooledWidth` > 0: SDXL. `headsOf64`: heads 64 wide at every level (SD 2.x, SDXL).
void mapUnet(const Shapes& u, const std::string& file, LdmComponent& out, int64_t pooledWidth, bool headsOf64)
{
    const bool xl = pooledWidth > 0;
    Mapper m(file, "model.diffusion_model.", out);
    const int64_t inChannels = dimOf(u, "input_blocks.0.0.weight", 1, m);
    if (inChannels == 9)
        throw Error(file +
                    ": an inpainting checkpoint (the UNet takes 9 input channels); Spyglass generates from "
                    "text only and does not load inpainting models");
    if (inChannels != 4)
        throw Error(file + ": an unknown Stable Diffusion variant (the UNet takes " + std::to_string(inChannels) +
                    " input channels, text-to-image models take 4)");

    // Input blocks: resnets (with an attention when "N.1" exists) and downsamplers ("N.0.op").
    const Shapes input = under(u, "input_blocks.");
    const int64_t inputCount = indexCount(input);
    struct Level {
        std::vector<int64_t> blocks;  // input block index of each resnet
        bool attention = false;
        int64_t downsampler = -1;
        int64_t depth = 1;
    };
    std::vector<Level> levels(1);
    for (int64_t n = 1; n < inputCount; ++n) {
        const Shapes block = under(input, std::to_string(n) + ".");
        if (block.empty())
            m.fail("input_blocks." + std::to_string(n), "is missing (input blocks are numbered without gaps)");
        if (block.count("0.op.weight")) {
            levels.back().downsampler = n;
            levels.emplace_back();
        } else if (block.count("0.in_layers.0.weight")) {
            levels.back().blocks.push_back(n);
            if (!under(block, "1.").empty()) {
                levels.back().attention = true;
                levels.back().depth = std::max<int64_t>(1, indexCount(under(block, "1.transformer_blocks.")));
            }
        } else {
            m.fail("input_blocks." + std::to_string(n), "is neither a resnet nor a downsampler");
        }
    }
    if (levels.size() < 2 && levels.front().blocks.empty()) m.fail("input_blocks.1", "is missing");
    const auto perLevel = static_cast<int64_t>(levels.front().blocks.size());
    if (perLevel < 1 || perLevel > 16) m.fail("input_blocks.1", "does not start a level of 1 to 16 resnets");
    for (size_t i = 0; i < levels.size(); ++i)
        if (static_cast<int64_t>(levels[i].blocks.size()) != perLevel)
            m.fail("input_blocks." + std::to_string(levels[i].blocks.empty() ? 0 : levels[i].blocks.front()),
                   "starts a level with " + std::to_string(levels[i].blocks.size()) + " resnets, the first has " +
                       std::to_string(perLevel));
    if (levels.back().downsampler >= 0)
        m.fail("input_blocks." + std::to_string(inputCount - 1), "is a downsampler with no level after it");
    const auto n = static_cast<int64_t>(levels.size());

    for (const auto& [key, shape] : u) {
        const std::string full = key;
        if (startsWith(key, "input_blocks.")) {
            const auto index = leadingIndex(key.substr(13));
            if (!index) m.fail(full, "has no block number");
            const auto [block, rest] = *index;
            if (block == 0) {
                if (rest != "0.weight" && rest != "0.bias") m.fail(full, "is not a part of conv_in");
                m.add("conv_in." + rest.substr(2), key);
                continue;
            }
            bool found = false;
            for (int64_t i = 0; i < n && !found; ++i) {
                const Level& level = levels[static_cast<size_t>(i)];
                if (level.downsampler == block) {
                    if (!startsWith(rest, "0.op.")) m.fail(full, "is not a part of a downsampler");
                    m.add("down_blocks." + std::to_string(i) + ".downsamplers.0.conv." + rest.substr(5), key);
                    found = true;
                }
                for (size_t j = 0; j < level.blocks.size() && !found; ++j) {
                    if (level.blocks[j] != block) continue;
                    const std::string base = "down_blocks." + std::to_string(i);
                    if (startsWith(rest, "0."))
                        m.add(base + ".resnets." + std::to_string(j) + "." + unetResnetName(m, full, rest.substr(2)),
                              key);
                    else if (startsWith(rest, "1."))
                        m.add(base + ".attentions." + std::to_string(j) + "." + rest.substr(2), key);
                    else
                        m.fail(full, "is neither a resnet nor an attention");
                    found = true;
                }
            }
            if (!found) m.fail(full, "belongs to no level");
        } else if (startsWith(key, "middle_block.")) {
            const auto index = leadingIndex(key.substr(13));
            if (!index || index->first > 2) m.fail(full, "is not a part of the middle block");
            const auto [part, rest] = *index;
            if (part == 1)
                m.add("mid_block.attentions.0." + rest, key);
            else
                m.add("mid_block.resnets." + std::to_string(part / 2) + "." + unetResnetName(m, full, rest), key);
        } else if (startsWith(key, "output_blocks.")) {
            const auto index = leadingIndex(key.substr(14));
            if (!index || index->first >= n * (perLevel + 1)) m.fail(full, "belongs to no level");
            const auto [block, rest] = *index;
            const std::string base = "up_blocks." + std::to_string(block / (perLevel + 1));
            const std::string j = std::to_string(block % (perLevel + 1));
            if (startsWith(rest, "0.")) {
                m.add(base + ".resnets." + j + "." + unetResnetName(m, full, rest.substr(2)), key);
            } else if (startsWith(rest, "1.conv.") || startsWith(rest, "2.conv.")) {
                if (block % (perLevel + 1) != perLevel) m.fail(full, "is an upsampler before the end of its level");
                m.add(base + ".upsamplers.0.conv." + rest.substr(7), key);
            } else if (startsWith(rest, "1.")) {
                m.add(base + ".attentions." + j + "." + rest.substr(2), key);
            } else {
                m.fail(full, "is neither a resnet, an attention nor an upsampler");
            }
        } else if (startsWith(key, "time_embed.0.")) {
            m.add("time_embedding.linear_1." + key.substr(13), key);
        } else if (startsWith(key, "time_embed.2.")) {
            m.add("time_embedding.linear_2." + key.substr(13), key);
        } else if (xl && startsWith(key, "label_emb.0.0.")) {
            m.add("add_embedding.linear_1." + key.substr(14), key);
        } else if (xl && startsWith(key, "label_emb.0.2.")) {
            m.add("add_embedding.linear_2." + key.substr(14), key);
        } else if (startsWith(key, "out.0.")) {
            m.add("conv_norm_out." + key.substr(6), key);
        } else if (startsWith(key, "out.2.")) {
            m.add("conv_out." + key.substr(6), key);
        } else {
            m.fail(full, xl ? "is not a part of an SDXL UNet" : "is not a part of an SD 1.x UNet");
        }
    }
    if (under(u, "middle_block.1.").empty()) m.fail("middle_block.1", "is missing (the middle block has no attention)");

    // The config diffusers would write for this UNet.
    nlohmann::json c;
    c["_class_name"] = "UNet2DConditionModel";
    std::vector<int64_t> channels, depth;
    std::vector<std::string> down, up;
    int64_t context = -1;
    std::optional<bool> linear;
    for (const auto& [key, shape] : u) {
        if (key.find("attn2.to_k.weight") != std::string::npos && shape.size() == 2) context = shape[1];
        if (key.find(".proj_in.weight") != std::string::npos) linear = shape.size() == 2;
    }
    if (context < 1) m.fail("…attn2.to_k.weight", "is missing: no cross-attention, so this is no text-to-image UNet");
    for (int64_t i = 0; i < n; ++i) {
        const Level& level = levels[static_cast<size_t>(i)];
        channels.push_back(
            dimOf(u, "input_blocks." + std::to_string(level.blocks.front()) + ".0.in_layers.2.weight", 0, m));
        depth.push_back(level.depth);
        down.push_back(level.attention ? "CrossAttnDownBlock2D" : "DownBlock2D");
        const std::string firstUp = "output_blocks." + std::to_string(i * (perLevel + 1)) + ".1.";
        const Shapes upAttention = under(u, firstUp);
        up.push_back(!upAttention.empty() && !upAttention.count("conv.weight") ? "CrossAttnUpBlock2D" : "UpBlock2D");
    }
    c["block_out_channels"] = channels;
    c["down_block_types"] = down;
    c["up_block_types"] = up;
    c["mid_block_type"] = "UNetMidBlock2DCrossAttn";
    c["layers_per_block"] = perLevel;
    c["transformer_layers_per_block"] = depth;
    c["cross_attention_dim"] = context;
    c["use_linear_projection"] = linear.value_or(false);
    c["in_channels"] = inChannels;
    c["out_channels"] = dimOf(u, "out.2.weight", 0, m);
    if (xl) {
        // text_time: label_emb's input = the pooled width + 6 sinusoids of the time-id width.
        const int64_t input = dimOf(u, "label_emb.0.0.weight", 1, m);
        if (input <= pooledWidth || (input - pooledWidth) % 6 != 0)
            m.fail("label_emb.0.0.weight", "takes " + std::to_string(input) + " inputs, not the pooled width " +
                                               std::to_string(pooledWidth) + " + 6 · a time-id width");
        c["addition_embed_type"] = "text_time";
        c["addition_time_embed_dim"] = (input - pooledWidth) / 6;
        c["projection_class_embeddings_input_dim"] = input;
        c["sample_size"] = 128;
    }
    if (headsOf64) {
        // SD 2.x's and SDXL's heads are 64 wide at every level (a companion config may say otherwise).
        std::vector<int64_t> heads;
        for (int64_t ch : channels) heads.push_back(std::max<int64_t>(1, ch / 64));
        c["attention_head_dim"] = heads;
        // SD 2.x: 768-pixel images (a 96 latent) unless said otherwise, as diffusers 0.21.2 assumes
        // for a checkpoint that does not say it is the 512-pixel base.
        if (!xl) c["sample_size"] = 96;
    } else {
        // Not in any shape: SD 1.x's 8 heads and 64-latent sample size (a companion config may say).
        c["attention_head_dim"] = 8;
        c["sample_size"] = 64;
    }
    out.config = std::move(c);
}

void mapVae(const Shapes& v, const std::string& file, const std::string& prefix, LdmComponent& out)
{
    Mapper m(file, prefix, out);
    const int64_t levels = indexCount(under(v, "decoder.up."));
    if (levels < 1 || levels > 8) m.fail("decoder.up.0", "is missing: no VAE decoder levels");
    for (const auto& [key, shape] : v) {
        const std::string full = key;
        std::string rest = key;
        std::string side;
        if (startsWith(rest, "encoder.") || startsWith(rest, "decoder.")) {
            side = rest.substr(0, 8);
            rest = rest.substr(8);
        }
        if (side.empty()) {
            if (startsWith(rest, "quant_conv.") || startsWith(rest, "post_quant_conv.")) {
                m.add(rest, key);
                continue;
            }
            m.fail(full, "is not a part of the VAE");
        }
        if (startsWith(rest, "conv_in.") || startsWith(rest, "conv_out.")) {
            m.add(side + rest, key);
        } else if (startsWith(rest, "norm_out.")) {
            m.add(side + "conv_norm_out." + rest.substr(9), key);
        } else if (startsWith(rest, "mid.block_1.") || startsWith(rest, "mid.block_2.")) {
            m.add(side + "mid_block.resnets." + (rest[10] == '1' ? "0." : "1.") + vaeResnetName(rest.substr(12)), key);
        } else if (startsWith(rest, "mid.attn_1.")) {
            const std::string a = rest.substr(11);
            static const std::vector<std::pair<std::string, std::string>> renames{{"norm.", "group_norm."},
                                                                                  {"q.", "to_q."},
                                                                                  {"k.", "to_k."},
                                                                                  {"v.", "to_v."},
                                                                                  {"proj_out.", "to_out.0."}};
            bool found = false;
            for (const auto& [from, to] : renames) {
                if (!startsWith(a, from)) continue;
                const bool squeeze = shape.size() == 4 && from != "norm.";
                if (squeeze && (shape[2] != 1 || shape[3] != 1)) m.fail(full, "is not a 1x1 convolution");
                m.add(side + "mid_block.attentions.0." + to + a.substr(from.size()), key, squeeze);
                found = true;
            }
            if (!found) m.fail(full, "is not a part of the VAE's attention");
        } else if (side == "encoder." && startsWith(rest, "down.")) {
            const auto index = leadingIndex(rest.substr(5));
            if (!index) m.fail(full, "has no level number");
            const auto [i, r] = *index;
            const std::string base = "encoder.down_blocks." + std::to_string(i);
            if (startsWith(r, "block.")) {
                const auto j = leadingIndex(r.substr(6));
                if (!j) m.fail(full, "has no block number");
                m.add(base + ".resnets." + std::to_string(j->first) + "." + vaeResnetName(j->second), key);
            } else if (startsWith(r, "downsample.conv.")) {
                m.add(base + ".downsamplers.0.conv." + r.substr(16), key);
            } else {
                m.fail(full, "is not a part of an encoder level");
            }
        } else if (side == "decoder." && startsWith(rest, "up.")) {
            const auto index = leadingIndex(rest.substr(3));
            if (!index || index->first >= levels) m.fail(full, "has no level number");
            const auto [k, r] = *index;
            const std::string base = "decoder.up_blocks." + std::to_string(levels - 1 - k);  // reversed
            if (startsWith(r, "block.")) {
                const auto j = leadingIndex(r.substr(6));
                if (!j) m.fail(full, "has no block number");
                m.add(base + ".resnets." + std::to_string(j->first) + "." + vaeResnetName(j->second), key);
            } else if (startsWith(r, "upsample.conv.")) {
                m.add(base + ".upsamplers.0.conv." + r.substr(14), key);
            } else {
                m.fail(full, "is not a part of a decoder level");
            }
        } else {
            m.fail(full, "is not a part of the VAE");
        }
    }
    nlohmann::json c;
    c["_class_name"] = "AutoencoderKL";
    std::vector<int64_t> channels;
    for (int64_t k = 0; k < levels; ++k)
        channels.push_back(dimOf(v, "decoder.up." + std::to_string(k) + ".block.0.conv2.weight", 0, m));
    const int64_t blocks = indexCount(under(v, "decoder.up.0.block."));
    if (blocks < 2) m.fail("decoder.up.0.block.1", "is missing (a decoder level has layers_per_block + 1 resnets)");
    c["block_out_channels"] = channels;
    c["down_block_types"] = std::vector<std::string>(static_cast<size_t>(levels), "DownEncoderBlock2D");
    c["up_block_types"] = std::vector<std::string>(static_cast<size_t>(levels), "UpDecoderBlock2D");
    c["layers_per_block"] = blocks - 1;
    c["latent_channels"] = dimOf(v, "post_quant_conv.weight", 0, m);
    c["out_channels"] = dimOf(v, "decoder.conv_out.weight", 0, m);
    c["in_channels"] = v.count("encoder.conv_in.weight") ? dimOf(v, "encoder.conv_in.weight", 1, m) : 3;
    c["scaling_factor"] = 0.18215;  // SD 1.x / 2.x; not in any shape
    out.config = std::move(c);
}

void mapClipText(const Shapes& t, const std::string& file, const std::string& prefix, LdmComponent& out,
                 std::vector<std::string>& ignored)
{
    Mapper m(file, prefix, out);
    for (const auto& [key, shape] : t) {
        // Older transformers saved CLIPTextModel without the "text_model." level.
        const std::string name = startsWith(key, "text_model.") ? key : "text_model." + key;
        if (name == "text_model.embeddings.position_ids") {
            ignored.push_back(m.prefix() + key);
            continue;
        }
        if (!startsWith(name, "text_model.embeddings.") && !startsWith(name, "text_model.encoder.layers.") &&
            !startsWith(name, "text_model.final_layer_norm."))
            m.fail(key, "is not a part of a CLIP text model");
        m.add(name, key);
    }
    Shapes byName;
    for (const auto& [name, source] : out.keys) byName[name] = t.at(source.key.substr(m.prefix().size()));
    const Mapper named(file, prefix, out);
    auto dim = [&](const std::string& name, size_t axis) {
        const auto it = byName.find(name);
        if (it == byName.end() || it->second.size() <= axis) named.fail(name, "is missing");
        return it->second[axis];
    };
    nlohmann::json c;
    const int64_t width = dim("text_model.embeddings.token_embedding.weight", 1);
    c["hidden_size"] = width;
    c["vocab_size"] = dim("text_model.embeddings.token_embedding.weight", 0);
    c["max_position_embeddings"] = dim("text_model.embeddings.position_embedding.weight", 0);
    c["num_hidden_layers"] = indexCount(under(byName, "text_model.encoder.layers."));
    c["intermediate_size"] = dim("text_model.encoder.layers.0.mlp.fc1.weight", 0);
    // CLIP's heads are 64 wide (CLIP-L: 768 / 64 = 12); narrower models need a companion config.
    if (width % 64 == 0) c["num_attention_heads"] = width / 64;
    c["hidden_act"] = "quick_gelu";
    c["layer_norm_eps"] = 1e-5;
    out.config = std::move(c);
}

// OpenCLIP's text transformer (SDXL's bigG) as transformers' CLIPTextModelWithProjection.
// `penultimate` (SD 2.x): the text model stops before the last layer and has no projection, as
// SD 2's FrozenOpenCLIPEmbedder(layer="penultimate") and diffusers' 23-layer CLIPTextModel.
void mapOpenClipText(const Shapes& t, const std::string& file, const std::string& prefix, LdmComponent& out,
                     std::vector<std::string>& ignored, bool penultimate = false)
{
    Mapper m(file, prefix, out);
    const int64_t layers = indexCount(under(t, "transformer.resblocks."));
    static const std::vector<std::pair<std::string, std::string>> layerRenames{
        {"ln_1.", "layer_norm1."},
        {"ln_2.", "layer_norm2."},
        {"attn.out_proj.", "self_attn.out_proj."},
        {"mlp.c_fc.", "mlp.fc1."},
        {"mlp.c_proj.", "mlp.fc2."}};
    for (const auto& [key, shape] : t) {
        if (key == "token_embedding.weight") {
            m.add("text_model.embeddings.token_embedding.weight", key);
        } else if (key == "positional_embedding") {
            m.add("text_model.embeddings.position_embedding.weight", key);
        } else if (startsWith(key, "ln_final.")) {
            m.add("text_model.final_layer_norm." + key.substr(9), key);
        } else if (key == "text_projection" && !penultimate) {
            if (shape.size() != 2) m.fail(key, "is not a matrix");
            m.addTransposed("text_projection.weight", key);
        } else if (key == "logit_scale" || key == "text_projection") {
            ignored.push_back(m.prefix() + key);
        } else if (startsWith(key, "transformer.resblocks.")) {
            const auto index = leadingIndex(key.substr(22));
            if (!index) m.fail(key, "has no layer number");
            const auto [l, rest] = *index;
            if (penultimate && l == layers - 1) {
                ignored.push_back(m.prefix() + key);
                continue;
            }
            const std::string base = "text_model.encoder.layers." + std::to_string(l) + ".";
            if (rest == "attn.in_proj_weight" || rest == "attn.in_proj_bias") {
                if (shape.empty() || shape[0] % 3 != 0) m.fail(key, "does not stack q, k and v");
                const std::string what = rest == "attn.in_proj_weight" ? "weight" : "bias";
                const char* names[] = {"q_proj", "k_proj", "v_proj"};
                for (int i = 0; i < 3; ++i) m.addSlice(base + "self_attn." + names[i] + "." + what, key, i);
                continue;
            }
            bool found = false;
            for (const auto& [from, to] : layerRenames) {
                if (startsWith(rest, from)) {
                    m.add(base + to + rest.substr(from.size()), key);
                    found = true;
                    break;
                }
            }
            if (!found) m.fail(key, "is not a part of an OpenCLIP text layer");
        } else {
            m.fail(key, "is not a part of an OpenCLIP text model");
        }
    }
    auto dim = [&](const std::string& key, size_t axis) { return dimOf(t, key, axis, m); };
    nlohmann::json c;
    const int64_t width = dim("token_embedding.weight", 1);
    c["hidden_size"] = width;
    c["vocab_size"] = dim("token_embedding.weight", 0);
    c["max_position_embeddings"] = dim("positional_embedding", 0);
    if (penultimate && layers < 2) m.fail("transformer.resblocks.1", "is missing (SD 2.x reads the penultimate layer)");
    c["num_hidden_layers"] = penultimate ? layers - 1 : layers;
    c["intermediate_size"] = dim("transformer.resblocks.0.mlp.c_fc.weight", 0);
    if (width % 64 == 0) c["num_attention_heads"] = width / 64;
    c["hidden_act"] = "gelu";
    c["layer_norm_eps"] = 1e-5;
    if (!penultimate) {
        c["projection_dim"] = dim("text_projection", 1);
        c["architectures"] = {"CLIPTextModelWithProjection"};
    }
    out.config = std::move(c);
}

bool isIgnoredTopLevel(const std::string& key)
{
    static const std::vector<std::string> prefixes{"model_ema.",
                                                   "betas",
                                                   "alphas_cumprod",
                                                   "sqrt_",
                                                   "log_one_minus",
                                                   "posterior_",
                                                   "logvar",
                                                   "first_stage_model.loss.",
                                                   "cond_stage_model.transformer.text_model.embeddings.position_ids"};
    return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return startsWith(key, p); });
}

Shapes toShapes(const LdmTensorShapes& tensors)
{
    Shapes all;
    for (const auto& [name, shape] : tensors) all[name] = shape;
    return all;
}

}  // namespace

LdmCheckpoint mapLdmCheckpoint(const LdmTensorShapes& tensors, const std::string& file)
{
    const Shapes all = toShapes(tensors);
    auto has = [&](const std::string& prefix) {
        const auto it = all.lower_bound(prefix);
        return it != all.end() && startsWith(it->first, prefix);
    };
    const bool xl = has("conditioner.embedders.1.model.");
    if (xl && !has("conditioner.embedders.0.transformer."))
        throw Error(file +
                    ": an SDXL checkpoint without its CLIP-L text encoder (conditioner.embedders.0.transformer.)");
    if (!xl && has("conditioner.embedders.0.model."))
        throw Error(file +
                    ": an SDXL refiner checkpoint (conditioner.embedders.0 is OpenCLIP bigG only); "
                    "refiners are not supported");
    const bool sd2 = !xl && has("cond_stage_model.model.");
    if (!has("model.diffusion_model."))
        throw Error(file + ": not a Stable Diffusion checkpoint in the LDM layout (no 'model.diffusion_model.' keys)");
    if (!xl && has("model.diffusion_model.label_emb."))
        throw Error(file +
                    ": a UNet with class/size embeddings (model.diffusion_model.label_emb) but no SDXL text "
                    "encoders (conditioner.embedders.*)");
    if (!xl && !sd2 && !has("cond_stage_model.transformer."))
        throw Error(file + ": no CLIP text encoder (no 'cond_stage_model.transformer.' keys)");
    if (sd2 && has("cond_stage_model.transformer."))
        throw Error(file + ": two text encoders (cond_stage_model.transformer. and cond_stage_model.model.)");

    LdmCheckpoint out;
    out.family = xl ? "sdxl" : sd2 ? "sd2" : "sd1";
    const std::string textPrefix = xl    ? "conditioner.embedders.0.transformer."
                                   : sd2 ? "cond_stage_model.model."
                                         : "cond_stage_model.transformer.";
    int64_t pooled = 0;
    if (xl) {
        mapOpenClipText(under(all, "conditioner.embedders.1.model."), file, "conditioner.embedders.1.model.",
                        out.textEncoder2, out.ignored);
        pooled = out.textEncoder2.config["projection_dim"].get<int64_t>();
    }
    mapUnet(under(all, "model.diffusion_model."), file, out.unet, pooled, xl || sd2);
    if (has("first_stage_model.")) {
        Shapes vae;
        for (const auto& [key, shape] : under(all, "first_stage_model."))
            if (!startsWith(key, "loss.")) vae[key] = shape;
        mapVae(vae, file, "first_stage_model.", out.vae);
        if (xl) out.vae.config["scaling_factor"] = 0.13025;  // SDXL's VAE
    }
    if (sd2)
        mapOpenClipText(under(all, textPrefix), file, textPrefix, out.textEncoder, out.ignored, true);
    else
        mapClipText(under(all, textPrefix), file, textPrefix, out.textEncoder, out.ignored);
    for (const auto& [key, shape] : all) {
        if (startsWith(key, "model.diffusion_model.") || startsWith(key, textPrefix) ||
            (xl && startsWith(key, "conditioner.embedders.1.model.")) ||
            (startsWith(key, "first_stage_model.") && !startsWith(key, "first_stage_model.loss.")))
            continue;
        if (!isIgnoredTopLevel(key)) throw Error(file + ": key '" + key + "' belongs to no part Spyglass knows");
        out.ignored.push_back(key);
    }
    return out;
}

LdmComponent mapVaeFile(const LdmTensorShapes& tensors, const std::string& file)
{
    const Shapes all = toShapes(tensors);
    LdmComponent out;
    const bool ldmPrefix =
        std::any_of(all.begin(), all.end(), [](const auto& e) { return startsWith(e.first, "first_stage_model."); });
    const bool diffusers =
        all.count("decoder.conv_norm_out.weight") || all.count("decoder.mid_block.resnets.0.conv1.weight");
    if (diffusers) {
        // Already diffusers names: taken as they are (the decoder's config from the shapes).
        for (const auto& [key, shape] : all) out.keys[key] = LdmSource{key, false};
        const auto dim = [&](const std::string& key, size_t axis) -> int64_t {
            const auto it = all.find(key);
            if (it == all.end() || it->second.size() <= axis) throw Error(file + ": key '" + key + "' is missing");
            return it->second[axis];
        };
        const int64_t levels = indexCount(under(all, "decoder.up_blocks."));
        if (levels < 1 || levels > 8) throw Error(file + ": key 'decoder.up_blocks.0…' is missing");
        std::vector<int64_t> channels;
        for (int64_t i = 0; i < levels; ++i)
            channels.push_back(
                dim("decoder.up_blocks." + std::to_string(levels - 1 - i) + ".resnets.0.conv2.weight", 0));
        nlohmann::json c;
        c["_class_name"] = "AutoencoderKL";
        c["block_out_channels"] = channels;
        c["up_block_types"] = std::vector<std::string>(static_cast<size_t>(levels), "UpDecoderBlock2D");
        c["down_block_types"] = std::vector<std::string>(static_cast<size_t>(levels), "DownEncoderBlock2D");
        c["layers_per_block"] = indexCount(under(all, "decoder.up_blocks.0.resnets.")) - 1;
        c["latent_channels"] = dim("post_quant_conv.weight", 0);
        c["out_channels"] = dim("decoder.conv_out.weight", 0);
        c["scaling_factor"] = 0.18215;
        out.config = std::move(c);
        return out;
    }
    Shapes vae;
    for (const auto& [key, shape] : ldmPrefix ? under(all, "first_stage_model.") : all)
        if (!startsWith(key, "loss.") && !startsWith(key, "model_ema.")) vae[key] = shape;
    if (!vae.count("post_quant_conv.weight") && !vae.count("decoder.conv_in.weight"))
        throw Error(file + ": not a VAE (no 'decoder.' or 'post_quant_conv.' keys)");
    mapVae(vae, file, ldmPrefix ? "first_stage_model." : "", out);
    return out;
}

}  // namespace spyglass::core
