#pragma once
// BpeModel — the vocabulary and merge ranks of a byte-level BPE tokenizer, and the merge loop
// (GPT-2 encoder.py semantics: repeatedly merge every occurrence of the lowest-ranked pair).
// Thread safety: immutable after construction; encodeBytes() is const and reentrant.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace spyglass::core {

class BpeModel {
public:
    // `vocab`: token string (byte-level mapped) → id. `merges`: pairs in rank order.
    // Throws Error naming `source` when a merge refers to tokens missing from the vocabulary.
    BpeModel(std::unordered_map<std::string, int> vocab, const std::vector<std::pair<std::string, std::string>>& merges,
             const std::string& source);

    // Encodes raw bytes (one pre-tokenized piece) to ids; appends the byte length of each token
    // to `tokenLengths` when given.
    void encodeBytes(std::string_view bytes, std::vector<int>& ids, std::vector<size_t>* tokenLengths) const;

    // The merge loop alone, on symbols that are already ids (CLIP starts from byte symbols with
    // "</w>" on the last one).
    void mergeSymbols(std::vector<int>& symbols) const;

    [[nodiscard]] int size() const { return static_cast<int>(m_idToToken.size()); }
    [[nodiscard]] std::optional<int> find(std::string_view token) const;
    // The byte-level mapped string of an id ("" for ids not in the vocabulary).
    [[nodiscard]] const std::string& token(int id) const;

private:
    struct Merge {
        int rank;
        int result;
    };
    static uint64_t pairKey(int a, int b)
    {
        return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
    }

    std::unordered_map<std::string, int> m_vocab;
    std::vector<std::string> m_idToToken;
    std::unordered_map<uint64_t, Merge> m_merges;
    std::vector<int> m_byteIds;        // id of the single-byte token for each byte, -1 if absent
    std::vector<size_t> m_tokenBytes;  // byte length of each id
    std::string m_source;
};

}  // namespace spyglass::core
