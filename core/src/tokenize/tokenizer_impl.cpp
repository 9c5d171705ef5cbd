#include "tokenize/tokenizer_impl.h"

#include "tokenize/byte_unicode.h"

#include <algorithm>

namespace spyglass::core {

namespace {

bool isAsciiSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

const AddedToken* TokenizerImpl::addedToken(int id) const
{
    for (const auto& t : addedTokens)
        if (t.id == id) return &t;
    return nullptr;
}

std::optional<int> TokenizerImpl::find(std::string_view token) const
{
    for (const auto& t : addedTokens)
        if (t.content == token) return t.id;
    return sentencePiece ? sentencePiece->find(token) : model->find(token);
}

std::string TokenizerImpl::decode(const std::vector<int>& ids, std::optional<int> previous) const
{
    std::string out;
    if (!sentencePiece) {
        for (int id : ids) out += tokenBytes(id);
        return out;
    }
    for (int id : ids) {
        if ((bos && id == *bos) || (eos && id == *eos) || id == 0) continue;  // control tokens
        out += tokenBytes(id);
    }
    const bool startsSequence = !previous || (bos && *previous == *bos);
    if (startsSequence && !out.empty() && out.front() == ' ') out.erase(0, 1);
    return out;
}

int TokenizerImpl::vocabSize() const
{
    int size = sentencePiece ? sentencePiece->size() : model->size();
    for (const auto& t : addedTokens) size = std::max(size, t.id + 1);
    return size;
}

std::string TokenizerImpl::tokenBytes(int id) const
{
    if (const AddedToken* added = addedToken(id)) return added->content;
    if (sentencePiece) return sentencePiece->tokenBytes(id);
    const std::string& token = model->token(id);
    if (auto bytes = unicodeToBytes(token)) return *bytes;
    return token;
}

Encoding TokenizerImpl::encode(std::string_view text) const
{
    Encoding out;
    for (int id : prefixIds) {
        out.ids.push_back(id);
        out.offsets.emplace_back(0, 0);
    }
    // Split out added tokens: leftmost match, longest content first at a position.
    size_t cursor = 0;
    size_t segmentBegin = 0;
    while (cursor < text.size() && !addedTokens.empty()) {
        const AddedToken* best = nullptr;
        for (const auto& t : addedTokens) {
            if (!t.content.empty() && text.compare(cursor, t.content.size(), t.content) == 0 &&
                (!best || t.content.size() > best->content.size()))
                best = &t;
        }
        if (!best) {
            ++cursor;
            continue;
        }
        size_t matchBegin = cursor;
        size_t matchEnd = cursor + best->content.size();
        if (best->lstrip)
            while (matchBegin > segmentBegin && isAsciiSpace(text[matchBegin - 1])) --matchBegin;
        if (best->rstrip)
            while (matchEnd < text.size() && isAsciiSpace(text[matchEnd])) ++matchEnd;
        encodeSegment(text, segmentBegin, matchBegin, out);
        out.ids.push_back(best->id);
        out.offsets.emplace_back(matchBegin, matchEnd);
        cursor = segmentBegin = matchEnd;
    }
    encodeSegment(text, segmentBegin, text.size(), out);
    for (int id : suffixIds) {
        out.ids.push_back(id);
        out.offsets.emplace_back(text.size(), text.size());
    }
    return out;
}

void TokenizerImpl::encodeSegment(std::string_view text, size_t begin, size_t end, Encoding& out) const
{
    if (begin >= end) return;
    if (sentencePiece) return sentencePiece->encode(text, begin, end, out);
    std::string_view segment = text.substr(begin, end - begin);
    std::string prefixed;
    size_t shift = 0;  // bytes added in front of the segment
    if (addPrefixSpace && segment.front() != ' ') {
        prefixed = " ";
        prefixed += segment;
        segment = prefixed;
        shift = 1;
    }
    std::vector<ByteRange> pieces{{0, segment.size()}};
    if (preTokenizer) pieces = preTokenizer->splitAll(segment, pieces);
    std::vector<size_t> lengths;
    for (const auto& [pb, pe] : pieces) {
        const std::string_view piece = segment.substr(pb, pe - pb);
        lengths.clear();
        bool whole = false;
        if (ignoreMerges) {
            std::string mapped;
            for (char c : piece) mapped += byteToUnicode(static_cast<unsigned char>(c));
            if (auto id = model->find(mapped)) {
                out.ids.push_back(*id);
                lengths.push_back(piece.size());
                whole = true;
            }
        }
        if (!whole) model->encodeBytes(piece, out.ids, &lengths);
        size_t position = pb;
        for (size_t i = 0; i < lengths.size(); ++i) {
            const size_t tokenBegin = position;
            const size_t tokenEnd = std::min(position + lengths[i], pe);
            position = tokenEnd;
            auto toInput = [&](size_t p) { return begin + (p > shift ? p - shift : 0); };
            out.offsets.emplace_back(toInput(tokenBegin), toInput(tokenEnd));
        }
    }
}

}  // namespace spyglass::core
