#include "tokenize/sentencepiece_bpe.h"

#include "io/json_file.h"
#include "spyglass/error.h"

#include <cctype>

#include <cstring>
#include <fstream>
#include <limits>

namespace spyglass::core {

namespace {

size_t codePointLength(unsigned char c)
{
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return 4;
    return 1;  // ill-formed: one byte at a time (it falls back to a byte piece)
}

bool isBytePiece(const std::string& p)
{
    return p.size() == 6 && p.rfind("<0x", 0) == 0 && p.back() == '>' &&
           std::isxdigit(static_cast<unsigned char>(p[3])) && std::isxdigit(static_cast<unsigned char>(p[4]));
}

}  // namespace

void SentencePieceBpe::index()
{
    m_ids.reserve(m_pieces.size());
    m_mergeable.assign(m_pieces.size(), true);
    for (size_t i = 0; i < m_pieces.size(); ++i) {
        m_ids.try_emplace(m_pieces[i], static_cast<int>(i));
        const std::string& p = m_pieces[i];
        if (isBytePiece(p) || p == "<unk>" || p == "<s>" || p == "</s>" || p == "\n<s>\n" || p == "\n</s>\n")
            m_mergeable[i] = false;
    }
    const auto byte0 = m_ids.find("<0x00>");
    if (byte0 == m_ids.end())
        throw Error("SentencePiece vocabulary has no byte pieces <0x00> … <0xFF> (byte fallback)");
    m_byteBase = byte0->second;
}

SentencePieceBpe SentencePieceBpe::fromLlama2cFile(const std::string& path, int vocabSizeHint)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path + ": cannot open");
    SentencePieceBpe bpe;
    bpe.m_space = " ";
    bpe.m_useScores = true;
    int32_t maxLength = 0;
    if (!in.read(reinterpret_cast<char*>(&maxLength), 4) || maxLength <= 0 || maxLength > 4096)
        throw Error(path + ": not a llama2.c tokenizer (bad max_token_length)");
    while (vocabSizeHint < 0 || static_cast<int>(bpe.m_pieces.size()) < vocabSizeHint) {
        float score = 0;
        int32_t length = 0;
        if (!in.read(reinterpret_cast<char*>(&score), 4)) break;
        if (!in.read(reinterpret_cast<char*>(&length), 4) || length < 0 || length > maxLength)
            throw Error(path + ": token " + std::to_string(bpe.m_pieces.size()) + " has a bad length");
        std::string piece(static_cast<size_t>(length), '\0');
        if (!in.read(piece.data(), length))
            throw Error(path + ": truncated at token " + std::to_string(bpe.m_pieces.size()));
        bpe.m_pieces.push_back(std::move(piece));
        bpe.m_scores.push_back(score);
    }
    if (bpe.m_pieces.size() < 259) throw Error(path + ": only " + std::to_string(bpe.m_pieces.size()) + " tokens");
    bpe.index();
    return bpe;
}

SentencePieceBpe SentencePieceBpe::fromMerges(std::vector<std::string> pieces,
                                              const std::vector<std::pair<std::string, std::string>>& merges,
                                              const std::string& source)
{
    SentencePieceBpe bpe;
    bpe.m_pieces = std::move(pieces);
    int rank = 0;
    for (const auto& [a, b] : merges) bpe.m_mergeRanks.try_emplace(a + '\x01' + b, rank++);
    try {
        bpe.index();
    } catch (const Error& e) {
        throw e.withContext(source);
    }
    return bpe;
}

SentencePieceBpe SentencePieceBpe::fromScores(std::vector<std::string> pieces, std::vector<float> scores,
                                              const std::vector<int>& types, const std::string& source)
{
    if (scores.size() != pieces.size() || types.size() != pieces.size())
        throw Error(source + ": " + std::to_string(pieces.size()) + " tokens but " + std::to_string(scores.size()) +
                    " scores and " + std::to_string(types.size()) + " token types");
    SentencePieceBpe bpe;
    bpe.m_pieces = std::move(pieces);
    bpe.m_scores = std::move(scores);
    bpe.m_useScores = true;
    try {
        bpe.index();
    } catch (const Error& e) {
        throw e.withContext(source);
    }
    for (size_t i = 0; i < types.size(); ++i) bpe.m_mergeable[i] = types[i] == 1;
    return bpe;
}

std::optional<int> SentencePieceBpe::find(std::string_view piece) const
{
    const auto it = m_ids.find(std::string(piece));
    if (it == m_ids.end()) return std::nullopt;
    return it->second;
}

void SentencePieceBpe::encode(std::string_view text, size_t begin, size_t end, Encoding& out) const
{
    if (begin >= end) return;
    struct Symbol {
        std::string text;
        size_t from, to;  // byte range in the input
    };
    std::vector<Symbol> symbols;
    symbols.push_back({m_space, begin, begin});  // the dummy prefix
    for (size_t i = begin; i < end;) {
        const size_t length = std::min(codePointLength(static_cast<unsigned char>(text[i])), end - i);
        std::string piece(text.substr(i, length));
        if (piece == " ") piece = m_space;
        symbols.push_back({piece, i, i + length});
        i += length;
    }
    while (symbols.size() > 1) {
        size_t best = std::numeric_limits<size_t>::max();
        double bestScore = -std::numeric_limits<double>::infinity();
        for (size_t i = 0; i + 1 < symbols.size(); ++i) {
            double score;
            if (m_useScores) {
                const auto it = m_ids.find(symbols[i].text + symbols[i + 1].text);
                if (it == m_ids.end() || !m_mergeable[static_cast<size_t>(it->second)]) continue;
                score = m_scores[static_cast<size_t>(it->second)];
            } else {
                const auto it = m_mergeRanks.find(symbols[i].text + '\x01' + symbols[i + 1].text);
                if (it == m_mergeRanks.end()) continue;
                score = -static_cast<double>(it->second);
            }
            if (score > bestScore) {  // strict: the leftmost wins ties
                bestScore = score;
                best = i;
            }
        }
        if (best == std::numeric_limits<size_t>::max()) break;
        symbols[best].text += symbols[best + 1].text;
        symbols[best].to = symbols[best + 1].to;
        symbols.erase(symbols.begin() + static_cast<long>(best) + 1);
    }
    for (const auto& s : symbols) {
        const auto it = m_ids.find(s.text);
        if (it != m_ids.end() && m_mergeable[static_cast<size_t>(it->second)]) {
            out.ids.push_back(it->second);
            out.offsets.emplace_back(s.from, s.to);
            continue;
        }
        // Byte fallback: the symbol's UTF-8 bytes, as SentencePiece does ("▁" falls back to E2 96 81;
        // llama2.c's space symbol is the space itself).
        const std::string& bytes = s.text;
        for (size_t k = 0; k < bytes.size(); ++k) {
            out.ids.push_back(m_byteBase + static_cast<unsigned char>(bytes[k]));
            const size_t from = std::min(s.from + k, s.to);
            out.offsets.emplace_back(from, std::min(from + 1, s.to));
        }
    }
}

std::string SentencePieceBpe::tokenBytes(int id) const
{
    if (id < 0 || id >= size()) return {};
    const std::string& p = m_pieces[static_cast<size_t>(id)];
    if (isBytePiece(p)) return std::string(1, static_cast<char>(std::stoi(p.substr(3, 2), nullptr, 16)));
    if (!m_mergeable[static_cast<size_t>(id)]) return p;  // <s>, </s>, <unk>
    std::string out;
    for (size_t i = 0; i < p.size();) {
        if (p.compare(i, m_space.size(), m_space) == 0) {
            out += ' ';
            i += m_space.size();
        } else {
            out += p[i++];
        }
    }
    return out;
}

}  // namespace spyglass::core
