#include "image/ldm_unet_names.h"

#include <charconv>
#include <optional>
#include <set>
#include <utility>

namespace spyglass::core {

namespace {

// "3.rest" → (3, "rest").
std::optional<std::pair<int, std::string>> splitIndex(const std::string& s)
{
    const size_t dot = s.find('.');
    if (dot == 0 || dot == std::string::npos) return std::nullopt;
    int value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + dot, value);
    if (ec != std::errc() || end != s.data() + dot || value < 0) return std::nullopt;
    return std::make_pair(value, s.substr(dot + 1));
}

std::optional<std::string> resnetPart(const std::string& rest)
{
    static const std::vector<std::pair<std::string, std::string>> renames{
        {"norm1.", "in_layers.0."},  {"conv1.", "in_layers.2."},  {"time_emb_proj.", "emb_layers.1."},
        {"norm2.", "out_layers.0."}, {"conv2.", "out_layers.3."}, {"conv_shortcut.", "skip_connection."}};
    for (const auto& [from, to] : renames)
        if (rest.starts_with(from)) return to + rest.substr(from.size());
    return std::nullopt;
}

// "down_blocks.i.<kind>.j.rest" → (i, kind, j, rest).
struct BlockPath {
    int level = 0;
    std::string kind;
    int index = 0;
    std::string rest;
};

std::optional<BlockPath> blockPath(const std::string& afterPrefix)
{
    const auto level = splitIndex(afterPrefix);
    if (!level) return std::nullopt;
    const size_t dot = level->second.find('.');
    if (dot == std::string::npos) return std::nullopt;
    const auto index = splitIndex(level->second.substr(dot + 1));
    if (!index) return std::nullopt;
    return BlockPath{level->first, level->second.substr(0, dot), index->first, index->second};
}

}  // namespace

std::map<std::string, std::string> ldmUnetNames(const std::vector<std::string>& diffusersNames)
{
    // Resnets per down level, and the up levels with attentions (their upsampler comes third).
    std::set<int> downResnets, upWithAttention;
    for (const std::string& name : diffusersNames) {
        if (name.starts_with("down_blocks.0.resnets."))
            if (const auto p = splitIndex(name.substr(22))) downResnets.insert(p->first);
        if (name.starts_with("up_blocks."))
            if (const auto p = blockPath(name.substr(10)); p && p->kind == "attentions")
                upWithAttention.insert(p->level);
    }
    const int perLevel = static_cast<int>(downResnets.size());
    const auto block = [](const std::string& kind, int n, int part) {
        return kind + "." + std::to_string(n) + "." + std::to_string(part) + ".";
    };

    std::map<std::string, std::string> out;
    static const std::vector<std::pair<std::string, std::string>> plain{{"conv_in.", "input_blocks.0.0."},
                                                                        {"time_embedding.linear_1.", "time_embed.0."},
                                                                        {"time_embedding.linear_2.", "time_embed.2."},
                                                                        {"add_embedding.linear_1.", "label_emb.0.0."},
                                                                        {"add_embedding.linear_2.", "label_emb.0.2."},
                                                                        {"conv_norm_out.", "out.0."},
                                                                        {"conv_out.", "out.2."}};
    for (const std::string& name : diffusersNames) {
        std::optional<std::string> ldm;
        for (const auto& [from, to] : plain)
            if (name.starts_with(from)) ldm = to + name.substr(from.size());
        const bool down = name.starts_with("down_blocks."), up = name.starts_with("up_blocks.");
        if (!ldm && (down || up) && perLevel > 0) {
            if (const auto p = blockPath(name.substr(down ? 12 : 10))) {
                const std::string kind = down ? "input_blocks" : "output_blocks";
                const int first = down ? 1 + p->level * (perLevel + 1) : p->level * (perLevel + 1);
                if (p->kind == "resnets") {
                    if (const auto r = resnetPart(p->rest)) ldm = block(kind, first + p->index, 0) + *r;
                } else if (p->kind == "attentions") {
                    ldm = block(kind, first + p->index, 1) + p->rest;
                } else if (down && p->kind == "downsamplers" && p->index == 0 && p->rest.starts_with("conv.")) {
                    ldm = block(kind, (p->level + 1) * (perLevel + 1), 0) + "op." + p->rest.substr(5);
                } else if (up && p->kind == "upsamplers" && p->index == 0 && p->rest.starts_with("conv.")) {
                    ldm = block(kind, first + perLevel, upWithAttention.count(p->level) ? 2 : 1) + p->rest;
                }
            }
        } else if (!ldm && name.starts_with("mid_block.")) {
            if (const auto p = blockPath("0." + name.substr(10))) {
                if (p->kind == "resnets") {
                    if (const auto r = resnetPart(p->rest))
                        ldm = "middle_block." + std::to_string(2 * p->index) + "." + *r;
                } else if (p->kind == "attentions" && p->index == 0) {
                    ldm = "middle_block.1." + p->rest;
                }
            }
        }
        if (ldm) out.emplace(name, *ldm);
    }
    return out;
}

}  // namespace spyglass::core
