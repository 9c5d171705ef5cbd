#pragma once
// Byte-level BPE training (the GPT-2 / HF `tokenizers` scheme) with the pre-tokenization the
// default model uses: every digit is its own piece (Digits individual_digits), then the GPT-2
// regex (ByteLevel). Writes a standard `tokenizer.json` that spyglass's Tokenizer loads.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace spyglass::core {

struct TrainedBpe {
    std::vector<std::string> vocab;  // byte-level mapped token strings, by id (256 bytes first)
    std::vector<std::pair<std::string, std::string>> merges;
    std::string endOfText = "<|endoftext|>";  // special token, id = vocab.size()
};

// `vocabSize` counts the 256 byte tokens, the merges and the end-of-text token.
[[nodiscard]] TrainedBpe trainBpe(const std::vector<std::string>& texts, int vocabSize);
// tokenizer.json (+ tokenizer_config.json) in `dir`.
void writeTokenizerFiles(const TrainedBpe& bpe, const std::filesystem::path& dir, int contextLength);

}  // namespace spyglass::core
