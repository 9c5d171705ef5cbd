#pragma once
// SentencePieceBpe — the SentencePiece BPE scheme of Llama 2 / Mistral / TinyLlama tokenizers:
// spaces become the space symbol ("▁", or " " in llama2.c's tokenizer.bin), one is prepended
// (the dummy prefix), the text is split into code points, adjacent symbols merge by the highest
// piece score (tokenizer.bin) or the lowest merge rank (tokenizer.json), and symbols outside the
// vocabulary fall back to byte pieces <0xXX>. Thread safety: immutable after construction.
#include "tokenize/pre_tokenizer.h"

#include "spyglass/tokenizer.h"

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace spyglass::core {

class SentencePieceBpe {
public:
    // From llama2.c's tokenizer.bin (scores; space symbol " "). Throws Error naming the file.
    static SentencePieceBpe fromLlama2cFile(const std::string& path, int vocabSizeHint = -1);
    // From a tokenizer.json BPE model with byte_fallback (merge ranks; space symbol "▁").
    static SentencePieceBpe fromMerges(std::vector<std::string> pieces,
                                       const std::vector<std::pair<std::string, std::string>>& merges,
                                       const std::string& source);

    // From a GGUF "llama" vocabulary: pieces (space symbol "▁"), scores (merge priority) and
    // token types (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte): only normal
    // pieces take part in merges.
    static SentencePieceBpe fromScores(std::vector<std::string> pieces, std::vector<float> scores,
                                       const std::vector<int>& types, const std::string& source);

    // Encodes text[begin, end) (one segment between special tokens), appending ids and offsets.
    void encode(std::string_view text, size_t begin, size_t end, Encoding& out) const;
    [[nodiscard]] std::string tokenBytes(int id) const;  // "▁" → " ", <0xXX> → the byte
    [[nodiscard]] int size() const { return static_cast<int>(m_pieces.size()); }
    [[nodiscard]] std::optional<int> find(std::string_view piece) const;
    [[nodiscard]] const std::string& piece(int id) const { return m_pieces.at(static_cast<size_t>(id)); }

private:
    SentencePieceBpe() = default;
    void index();

    std::vector<std::string> m_pieces;
    std::vector<float> m_scores;  // tokenizer.bin mode
    std::unordered_map<std::string, int> m_ids;
    std::unordered_map<std::string, int> m_mergeRanks;  // "a\x01b" → rank (tokenizer.json mode)
    std::vector<bool> m_mergeable;                      // normal pieces (not control or byte pieces)
    int m_byteBase = 3;                                 // id of <0x00>
    std::string m_space = "\xE2\x96\x81";               // "▁"
    bool m_useScores = false;
};

}  // namespace spyglass::core
