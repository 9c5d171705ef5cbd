#pragma once
// ldmUnetNames — the original LDM / SGM name of each diffusers UNet tensor (the inverse of the
// single-file mapper's UNet table), for a UNet given by its diffusers names. kohya-ss's SDXL LoRAs
// name their UNet modules this way (`lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q`),
// its SD 1.x LoRAs by the diffusers path. With L resnets per down level (`layers_per_block`):
//   down_blocks.i.resnets.j / .attentions.j → input_blocks.(1 + i·(L+1) + j).0 / .1
//   down_blocks.i.downsamplers.0.conv       → input_blocks.((i+1)·(L+1)).0.op
//   mid_block.resnets.k / .attentions.0     → middle_block.(2k) / middle_block.1
//   up_blocks.i.resnets.j / .attentions.j   → output_blocks.(i·(L+1) + j).0 / .1
//   up_blocks.i.upsamplers.0.conv           → output_blocks.(i·(L+1) + L).(2 with attention, else 1).conv
// resnets' norm1, conv1, time_emb_proj, norm2, conv2, conv_shortcut → in_layers.0, in_layers.2,
// emb_layers.1, out_layers.0, out_layers.3, skip_connection; conv_in → input_blocks.0.0,
// time_embedding.linear_1/2 → time_embed.0/2, add_embedding.linear_1/2 → label_emb.0.0/0.2,
// conv_norm_out → out.0, conv_out → out.2.
// Torch-free. Thread safety: pure function.
#include <map>
#include <string>
#include <vector>

namespace spyglass::core {

// diffusers name → LDM name (without `model.diffusion_model.`); names with no LDM counterpart are
// left out.
[[nodiscard]] std::map<std::string, std::string> ldmUnetNames(const std::vector<std::string>& diffusersNames);

}  // namespace spyglass::core
