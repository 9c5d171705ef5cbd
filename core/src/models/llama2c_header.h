#pragma once
// The header of a llama2.c "v0" checkpoint (7 int32: dim, hidden_dim, n_layers, n_heads,
// n_kv_heads, vocab_size — negative when the classifier is stored separately — and seq_len) and
// the checks that decide whether a file is one. Torch-free, so it can be fuzzed on its own.
#include <cstdint>
#include <filesystem>

namespace spyglass::core {

struct Llama2cHeader {
    int32_t dim = 0, hidden = 0, layers = 0, heads = 0, kvHeads = 0, vocab = 0, seqLen = 0;

    [[nodiscard]] int64_t vocabSize() const { return vocab < 0 ? -static_cast<int64_t>(vocab) : vocab; }
    [[nodiscard]] bool separateClassifier() const { return vocab < 0; }
    // Every size within bounds and the head layout consistent (dim % heads, heads % kv_heads,
    // even head size); only then is floatCount() meaningful.
    [[nodiscard]] bool plausible() const;
    // Floats after the header, with the unused freq_cis tables and the optional classifier.
    [[nodiscard]] uint64_t floatCount() const;
};

// True when `file` starts with a plausible header whose sizes match the file size.
[[nodiscard]] bool looksLikeLlama2c(const std::filesystem::path& file);
// The header of `file`; throws Error naming the file when it cannot be read, is inconsistent or
// does not match the file size.
[[nodiscard]] Llama2cHeader readLlama2cHeader(const std::filesystem::path& file);

}  // namespace spyglass::core
