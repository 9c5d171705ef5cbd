#pragma once
// ClipTokenizer — the CLIP BPE tokenizer of Stable Diffusion pipelines (tokenizer/vocab.json +
// merges.txt): NFC, white space collapsed, lower-cased, split with CLIP's regex (letters in runs,
// every digit alone, punctuation runs), byte-level BPE with "</w>" on each piece's last symbol.
// Matches openai/CLIP simple_tokenizer and transformers' CLIPTokenizer (ftfy path).
// Thread safety: immutable after load; encode() is const and reentrant.
#include "tokenize/bpe_model.h"
#include "tokenize/regex_splitter.h"

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace spyglass::core {

struct ClipEncoding {
    std::string text;                                // the cleaned, lower-cased text the offsets refer to
    std::vector<int> ids;                            // without start/end of text
    std::vector<std::pair<size_t, size_t>> offsets;  // byte range of each token's piece in `text`
};

class ClipTokenizer {
public:
    // Reads dir/vocab.json, dir/merges.txt and (optionally) dir/tokenizer_config.json for the pad
    // token. Throws Error naming the file and the reason.
    // `padToken`, when given, replaces the config's (SDXL's tokenizer_2 pads with "!").
    static std::unique_ptr<ClipTokenizer> load(const std::filesystem::path& dir, const std::string& padToken = {});

    [[nodiscard]] ClipEncoding encode(const std::string& text) const;
    [[nodiscard]] int startId() const { return m_startId; }
    [[nodiscard]] int endId() const { return m_endId; }
    [[nodiscard]] int padId() const { return m_padId; }
    [[nodiscard]] int vocabSize() const { return m_bpe->size(); }
    // Display text: bytes decoded, "</w>" dropped ("<|startoftext|>" for the specials).
    [[nodiscard]] std::string tokenText(int id) const;
    // The cleaning step alone (NFC, white space collapsed and trimmed, lower case).
    [[nodiscard]] static std::string clean(const std::string& text);

private:
    ClipTokenizer() = default;
    std::unique_ptr<BpeModel> m_bpe;
    std::unique_ptr<RegexSplitter> m_splitter;
    std::vector<int> m_byteIds;     // byte → id of its symbol
    std::vector<int> m_byteEndIds;  // byte → id of its symbol + "</w>"
    int m_startId = 0;
    int m_endId = 0;
    int m_padId = 0;
};

}  // namespace spyglass::core
