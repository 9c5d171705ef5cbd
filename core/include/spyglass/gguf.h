#pragma once
// GGUF files (llama.cpp's format) for users: LanguageModel::load() opens a .gguf directly; this
// header adds what a user may want beside it.
//
//   size_t n = dequantizeGgufFile("model.Q4_K_M.gguf", "model.f32.safetensors");
//
// Thread safety: free functions on their own files.
#include <cstddef>
#include <filesystem>

namespace spyglass::core {

// Writes every tensor of the GGUF file as F32 under its GGUF name, row-major [rows, row length]
// (the GGUF dimensions reversed), dequantized exactly as ggml does, with each tensor's GGUF type
// in the metadata ("gguf_type.<name>": "Q4_K", …) — to see what quantization did. Atomic. Returns
// the number of tensors; throws Error naming the file and the tensor.
std::size_t dequantizeGgufFile(const std::filesystem::path& gguf, const std::filesystem::path& out);

}  // namespace spyglass::core
