#pragma once
// A GGUF file seen as a Hugging Face model: the configuration its `{arch}.*` metadata implies (as
// a config.json object) and its tensors under Hugging Face names, dequantized on demand exactly as
// ggml does, with llama.cpp's converter undone — Llama Q/K rows un-permuted (back from ggml's
// interleaved RoPE pairs), GPT-2's Conv1D matrices transposed back to [in, out]. Gemma's norm
// weights, which the converter stored as 1 + w, are kept as stored (the config says so with
// kNormGainIncludesOneKey rather than subtracting 1 and adding it back: exact).
// Thread safety: the source is immutable; its tensors may be filled from any thread.
#include "io/gguf_file.h"
#include "io/weight_store.h"
#include "models/rotary_config.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace spyglass::core {

struct GgufModelSource {
    std::string architecture;  // the config's model_type: gpt2 | llama | qwen2 | qwen3 | gemma | gemma2 | phi3
    nlohmann::json config;
    WeightStore weights;
};

// Throws Error naming the file and key for an unsupported architecture or missing metadata.
[[nodiscard]] GgufModelSource ggufModelSource(const std::shared_ptr<const GgufFile>& gguf);

// Architectures (general.architecture) that ggufModelSource() maps.
[[nodiscard]] const char* supportedGgufArchitectures();

// Llama's converter permutation undone: rows of each of `heads` heads go from ggml's interleaved
// (2j, 2j+1) pairs back to Hugging Face's halves (j, j + d/2). `rows` = heads · head_dim.
void unpermuteRotaryRows(float* data, int64_t rows, int64_t columns, int64_t heads);

}  // namespace spyglass::core
