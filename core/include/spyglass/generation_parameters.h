#pragma once
// The generation parameters AUTOMATIC1111 / Forge write into their PNGs (the "parameters" text
// chunk), read and written:
//
//   a photo of a hand, (masterpiece:1.2) <lora:detail:0.6>
//   Negative prompt: blurry
//   Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 42, Size: 512x768,
//   Model hash: 6ce0161689, Model: v1-5-pruned, Clip skip: 2, RNG: CPU, Version: v1.9.0
//
// applyTo() fills DiffusionOptions with every field Spyglass can honour and says, one line each,
// what it cannot (A1111's default GPU noise, hires fix, samplers without a diffusers equivalent, …).
// Spyglass writes the same text into its own PNGs, so its images can be reproduced elsewhere.
// Thread safety: pure functions.
#include "spyglass/diffusion.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace spyglass::core {

struct GenerationParameters {
    std::string prompt;
    std::string negativePrompt;
    std::vector<std::pair<std::string, std::string>> fields;  // every "Key: value" of the last line, in order

    [[nodiscard]] const std::string* field(const std::string& key) const;
};

// Never fails on text: what is not "Key: value" stays in the prompt. Quoted values ("a, b") keep
// their commas.
[[nodiscard]] GenerationParameters parseGenerationParameters(const std::string& text);
[[nodiscard]] std::string formatGenerationParameters(const GenerationParameters& p);

// Fills `o` (prompt, negative prompt, steps, sampler and schedule type, CFG scale, seed, size, clip
// skip) and returns one line per field it cannot honour or that the user should check.
[[nodiscard]] std::vector<std::string> applyGenerationParameters(const GenerationParameters& p, DiffusionOptions& o);
// The A1111 text of a Spyglass run (`model`: the model's file or folder name).
[[nodiscard]] GenerationParameters generationParametersOf(const DiffusionOptions& o, const DiffusionResult& r,
                                                          const std::string& model);

// The text of the PNG chunk tEXt or uncompressed iTXt whose keyword is `keyword` (tEXt's Latin-1 as
// UTF-8); nullopt when there is none. Throws Error naming `file` for bytes that are not a PNG or a
// chunk that runs past the end.
[[nodiscard]] std::optional<std::string> readPngText(const std::string& png, const std::string& keyword,
                                                     const std::string& file);
// `png` with a text chunk (tEXt when ASCII, else iTXt in UTF-8) inserted before IEND.
[[nodiscard]] std::string addPngText(const std::string& png, const std::string& keyword, const std::string& text);

}  // namespace spyglass::core
