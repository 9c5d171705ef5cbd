#pragma once
// Where A1111 LoRA tags' files are, and what a run with tags loads: NAME.safetensors of
// "<lora:NAME:W>" is looked for beside the listed LoRAs, then in the model's folder (the folder of a
// single-file checkpoint). The app resolves tags with these on this computer; `spyglass-cli serve`
// resolves them on the server for the Remote device (paths are the server's).
//
//   DiffusionLoadOptions load;  std::string prompt = "a hand <lora:detail:0.6>";
//   resolvePromptLoras(prompt, "models/sd", load);   // prompt "a hand", load.loras += detail.safetensors
//
// Thread safety: pure functions over the file system.
#include "spyglass/diffusion.h"
#include "spyglass/lora_tags.h"
#include "spyglass/prompt_lab.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace spyglass::core {

using LoraFiles = std::map<std::string, std::filesystem::path>;  // tag name → file

// NAME.safetensors beside `loras` or the model; empty when there is none.
[[nodiscard]] std::filesystem::path findLoraFile(const std::string& name, const std::filesystem::path& model,
                                                 const std::vector<DiffusionLoadOptions::Lora>& loras);
// Takes the tags out of `prompt` and adds their files to `load.loras` (a file already listed gets
// the tag's weight, as in A1111). Throws Error for a malformed tag or one whose file is not found.
void resolvePromptLoras(std::string& prompt, const std::filesystem::path& model, DiffusionLoadOptions& load);
// The prompt lab: the base's tags as resolvePromptLoras; a chunk's tags ("with vs without this
// LoRA") into `files`, and their files leave `load.loras` (they are merged only in the runs with
// that chunk). Throws Error as resolvePromptLoras.
void resolveLabLoras(LabOptions& options, const std::filesystem::path& model, DiffusionLoadOptions& load,
                     LoraFiles& files);
// What a lab run whose prompt holds `tags` loads: `load` plus each tag's file from `files` (a file
// already listed gets the tag's weight). Throws Error for a tag without a file.
[[nodiscard]] DiffusionLoadOptions withLoraTags(DiffusionLoadOptions load, const std::vector<LoraTag>& tags,
                                                const LoraFiles& files);
// Whether two paths name the same file (either missing: the same text).
[[nodiscard]] bool sameFile(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace spyglass::core
