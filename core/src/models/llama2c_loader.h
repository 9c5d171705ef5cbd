#pragma once
// llama2.c checkpoints (karpathy/llama2.c "v0": a header of 7 int32 — dim, hidden_dim, n_layers,
// n_heads, n_kv_heads, vocab_size (negative: separate classifier), seq_len — then float32
// tensors). They load as a Llama model: q/k rows are permuted from Meta's interleaved rotary
// pairs to Hugging Face's rotate_half layout, so one code path runs both.
#include "models/language_model_impl.h"
#include "models/llama2c_header.h"

#include <filesystem>

namespace spyglass::core {

// Throws Error naming the file and the reason. The tokenizer is `tokenizerFile`, else a
// tokenizer.bin beside the checkpoint, else none (the model then runs on ids).
[[nodiscard]] std::unique_ptr<LanguageModelImpl> loadLlama2c(const std::filesystem::path& file,
                                                             const std::filesystem::path& tokenizerFile,
                                                             const LoadOptions& options);

}  // namespace spyglass::core
