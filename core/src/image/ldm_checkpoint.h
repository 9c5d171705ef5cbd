#pragma once
// LdmCheckpoint — the key map of a single-file Stable Diffusion checkpoint in the original LDM
// layout (what AUTOMATIC1111, Forge, ComfyUI and model sites use): `model.diffusion_model.*`
// (UNet), `first_stage_model.*` (VAE), `cond_stage_model.transformer.*` (CLIP text encoder), mapped
// to the diffusers names Spyglass's components load, and each component's diffusers config
// inferred from the keys and shapes alone:
//   UNet: block_out_channels from each level's first resnet, levels = downsamplers + 1,
//   layers_per_block = resnets per level, attention levels = where `input_blocks.N.1` exists,
//   transformer depth = `transformer_blocks.k` count, cross_attention_dim = `attn2.to_k` columns,
//   linear vs convolutional projections = rank of `proj_in.weight`;
//   VAE: channels per level, resnets per level, latent channels; text: width, layers, MLP width,
//   vocabulary and positions from the tensor shapes.
// What no shape says is taken from the standard models (SD 1.x: 8 UNet heads, CLIP-L's 64-wide
// text heads and quick_gelu, VAE scaling 0.18215, sample size 64) unless a companion folder's
// configs say otherwise (DiffusionLoadOptions::configDir).
// SDXL (`conditioner.embedders.0.transformer.*` CLIP-L, `conditioner.embedders.1.model.*` OpenCLIP
// bigG with q/k/v stacked in in_proj and a transposed text_projection, `label_emb` = the text_time
// add embedding whose time width is read from its shape) maps too, and SD 2.x
// (`cond_stage_model.model.*` OpenCLIP ViT-H, read at its penultimate layer: the last resblock and
// text_projection are ignored, as diffusers' 23-layer CLIPTextModel; UNet heads 64 wide; 768-pixel
// v-prediction unless said otherwise). Refiner and inpainting checkpoints are recognised by their
// keys and refused by name.
// Torch-free, so that the mapper can be fuzzed.
// Thread safety: pure function.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace spyglass::core {

struct LdmSource {
    std::string key;         // the checkpoint's key
    bool squeeze = false;    // a 1×1 convolution [C, C, 1, 1] read as a Linear weight [C, C]
    int slice = -1;          // ≥ 0: that third of the rows (OpenCLIP's in_proj = q, k, v stacked)
    bool transpose = false;  // OpenCLIP's text_projection [H, P] read as a Linear weight [P, H]
};

struct LdmComponent {
    std::map<std::string, LdmSource> keys;  // diffusers name → where it is in the file
    nlohmann::json config;                  // the inferred diffusers config.json
    [[nodiscard]] bool empty() const { return keys.empty(); }
};

struct LdmCheckpoint {
    std::string family;  // "sd1", "sd2" or "sdxl"
    LdmComponent unet, vae, textEncoder;
    LdmComponent textEncoder2;  // SDXL: OpenCLIP bigG (conditioner.embedders.1.model) as CLIPTextModelWithProjection
    std::vector<std::string> ignored;  // keys not used (EMA copies, schedule buffers, position_ids, …)
};

using LdmTensorShapes = std::vector<std::pair<std::string, std::vector<int64_t>>>;

// Throws Error "<file>: …" naming the key or the variant when the layout is not one Spyglass
// loads. A checkpoint without VAE keys maps with an empty `vae` (the caller asks for --vae).
[[nodiscard]] LdmCheckpoint mapLdmCheckpoint(const LdmTensorShapes& tensors, const std::string& file);

// A separate VAE file: LDM keys (`encoder.*`/`decoder.*`, optionally under `first_stage_model.`,
// as A1111's VAE files) or diffusers keys (`decoder.up_blocks.*`). Throws Error naming the file.
[[nodiscard]] LdmComponent mapVaeFile(const LdmTensorShapes& tensors, const std::string& file);

}  // namespace spyglass::core
