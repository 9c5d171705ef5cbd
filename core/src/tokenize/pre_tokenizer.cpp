#include "tokenize/pre_tokenizer.h"

namespace spyglass::core {

std::vector<ByteRange> PreTokenizer::splitAll(std::string_view text, const std::vector<ByteRange>& pieces) const
{
    std::vector<ByteRange> out;
    out.reserve(pieces.size() * 2);
    for (const auto& piece : pieces) split(text, piece, out);
    return out;
}

const std::string& gpt2SplitPattern()
{
    static const std::string pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
    return pattern;
}

RegexPreTokenizer::RegexPreTokenizer(const std::string& pattern, SplitBehavior behavior, bool invert)
    : m_regex(pattern), m_behavior(behavior), m_invert(invert)
{
}

void RegexPreTokenizer::split(std::string_view text, ByteRange range, std::vector<ByteRange>& out) const
{
    const auto [begin, end] = range;
    if (begin >= end) return;
    // Cover the piece with (range, isDelimiter) segments.
    struct Segment {
        size_t begin, end;
        bool delimiter;
    };
    std::vector<Segment> segments;
    size_t cursor = begin;
    for (auto [b, e] : m_regex.match(text.substr(begin, end - begin))) {
        b += begin;
        e += begin;
        if (b > cursor) segments.push_back({cursor, b, m_invert});
        segments.push_back({b, e, !m_invert});
        cursor = e;
    }
    if (cursor < end) segments.push_back({cursor, end, m_invert});

    switch (m_behavior) {
        case SplitBehavior::Removed:
            for (const auto& s : segments)
                if (!s.delimiter) out.emplace_back(s.begin, s.end);
            break;
        case SplitBehavior::Isolated:
            for (const auto& s : segments) out.emplace_back(s.begin, s.end);
            break;
        case SplitBehavior::MergedWithPrevious: {
            // A delimiter joins the piece before it.
            bool open = false;
            for (const auto& s : segments) {
                if (s.delimiter && open) {
                    out.back().second = s.end;
                    open = false;
                } else {
                    out.emplace_back(s.begin, s.end);
                    open = !s.delimiter;
                }
            }
            break;
        }
        case SplitBehavior::MergedWithNext: {
            // A delimiter starts the piece after it.
            bool pending = false;
            for (const auto& s : segments) {
                if (pending && !s.delimiter) {
                    out.back().second = s.end;
                    pending = false;
                } else {
                    out.emplace_back(s.begin, s.end);
                    pending = s.delimiter;
                }
            }
            break;
        }
        case SplitBehavior::Contiguous: {
            bool lastDelimiter = false;
            for (const auto& s : segments) {
                if (s.delimiter && lastDelimiter && !out.empty() && out.back().second == s.begin) {
                    out.back().second = s.end;
                } else {
                    out.emplace_back(s.begin, s.end);
                }
                lastDelimiter = s.delimiter;
            }
            break;
        }
    }
}

SequencePreTokenizer::SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps) : m_steps(std::move(steps))
{
}

void SequencePreTokenizer::split(std::string_view text, ByteRange range, std::vector<ByteRange>& out) const
{
    std::vector<ByteRange> pieces{range};
    for (const auto& step : m_steps) pieces = step->splitAll(text, pieces);
    out.insert(out.end(), pieces.begin(), pieces.end());
}

}  // namespace spyglass::core
