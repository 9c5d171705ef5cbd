#include "tokenize/bpe_model.h"

#include "spyglass/error.h"
#include "tokenize/byte_unicode.h"

#include <algorithm>
#include <limits>

namespace spyglass::core {

BpeModel::BpeModel(std::unordered_map<std::string, int> vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges, const std::string& source)
    : m_vocab(std::move(vocab)), m_source(source)
{
    int maxId = -1;
    for (const auto& [token, id] : m_vocab) {
        if (id < 0) throw Error(source + ": token '" + token + "' has a negative id");
        maxId = std::max(maxId, id);
    }
    // Tables are sized by the largest id: ids must be (nearly) dense.
    if (maxId >= 0 && static_cast<size_t>(maxId) > 2 * m_vocab.size() + 1024)
        throw Error(source + ": the vocabulary's ids are not dense (largest id " + std::to_string(maxId) + " for " +
                    std::to_string(m_vocab.size()) + " tokens)");
    m_idToToken.resize(static_cast<size_t>(maxId + 1));
    m_tokenBytes.assign(static_cast<size_t>(maxId + 1), 0);
    for (const auto& [token, id] : m_vocab) {
        m_idToToken[static_cast<size_t>(id)] = token;
        const auto bytes = unicodeToBytes(token);
        m_tokenBytes[static_cast<size_t>(id)] = bytes ? bytes->size() : token.size();
    }
    m_byteIds.assign(256, -1);
    for (int b = 0; b < 256; ++b) {
        const auto it = m_vocab.find(byteToUnicode(static_cast<unsigned char>(b)));
        if (it != m_vocab.end()) m_byteIds[static_cast<size_t>(b)] = it->second;
    }
    m_merges.reserve(merges.size());
    int rank = 0;
    for (const auto& [left, right] : merges) {
        const auto a = m_vocab.find(left);
        const auto b = m_vocab.find(right);
        const auto merged = m_vocab.find(left + right);
        if (a == m_vocab.end() || b == m_vocab.end() || merged == m_vocab.end())
            throw Error(source + ": merge " + std::to_string(rank + 1) + " ('" + left + " " + right +
                        "') uses a token that is not in the vocabulary");
        m_merges.try_emplace(pairKey(a->second, b->second), Merge{rank, merged->second});
        ++rank;
    }
}

std::optional<int> BpeModel::find(std::string_view token) const
{
    const auto it = m_vocab.find(std::string(token));
    if (it == m_vocab.end()) return std::nullopt;
    return it->second;
}

const std::string& BpeModel::token(int id) const
{
    static const std::string empty;
    if (id < 0 || static_cast<size_t>(id) >= m_idToToken.size()) return empty;
    return m_idToToken[static_cast<size_t>(id)];
}

void BpeModel::encodeBytes(std::string_view bytes, std::vector<int>& ids, std::vector<size_t>* tokenLengths) const
{
    std::vector<int> symbols;
    symbols.reserve(bytes.size());
    for (char c : bytes) {
        const int id = m_byteIds[static_cast<unsigned char>(c)];
        if (id < 0)
            throw Error(m_source + ": the vocabulary has no token for byte 0x" +
                        std::string(1, "0123456789abcdef"[(static_cast<unsigned char>(c) >> 4)]) +
                        std::string(1, "0123456789abcdef"[static_cast<unsigned char>(c) & 15]) +
                        " (not a complete byte-level vocabulary)");
        symbols.push_back(id);
    }
    mergeSymbols(symbols);
    for (int id : symbols) {
        ids.push_back(id);
        if (tokenLengths) tokenLengths->push_back(m_tokenBytes[static_cast<size_t>(id)]);
    }
}

void BpeModel::mergeSymbols(std::vector<int>& symbols) const
{
    while (symbols.size() > 1) {
        int bestRank = std::numeric_limits<int>::max();
        int bestA = -1, bestB = -1, bestResult = -1;
        for (size_t i = 0; i + 1 < symbols.size(); ++i) {
            const auto it = m_merges.find(pairKey(symbols[i], symbols[i + 1]));
            if (it != m_merges.end() && it->second.rank < bestRank) {
                bestRank = it->second.rank;
                bestA = symbols[i];
                bestB = symbols[i + 1];
                bestResult = it->second.result;
            }
        }
        if (bestResult < 0) break;
        // Merge every non-overlapping occurrence of the best pair, left to right.
        size_t write = 0;
        for (size_t read = 0; read < symbols.size(); ++read) {
            if (read + 1 < symbols.size() && symbols[read] == bestA && symbols[read + 1] == bestB) {
                symbols[write++] = bestResult;
                ++read;
            } else {
                symbols[write++] = symbols[read];
            }
        }
        symbols.resize(write);
    }
}

}  // namespace spyglass::core
