#pragma once
// Pre-tokenizers of the Hugging Face tokenizers library: they cut text into pieces that BPE
// then encodes independently. Pieces are byte ranges into the input text.
// Thread safety: split() is const and reentrant.
#include "tokenize/regex_splitter.h"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spyglass::core {

using ByteRange = std::pair<size_t, size_t>;

// How a Split pre-tokenizer treats the matches of its pattern (HF SplitDelimiterBehavior).
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    // Splits the piece `range` of `text` and appends the resulting pieces to `out`.
    virtual void split(std::string_view text, ByteRange range, std::vector<ByteRange>& out) const = 0;

    // Applies this pre-tokenizer to each piece in turn.
    [[nodiscard]] std::vector<ByteRange> splitAll(std::string_view text, const std::vector<ByteRange>& pieces) const;
};

// The GPT-2 pattern: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
[[nodiscard]] const std::string& gpt2SplitPattern();

class RegexPreTokenizer final : public PreTokenizer {
public:
    RegexPreTokenizer(const std::string& pattern, SplitBehavior behavior, bool invert);
    void split(std::string_view text, ByteRange range, std::vector<ByteRange>& out) const override;

private:
    RegexSplitter m_regex;
    SplitBehavior m_behavior;
    bool m_invert;
};

class SequencePreTokenizer final : public PreTokenizer {
public:
    explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps);
    void split(std::string_view text, ByteRange range, std::vector<ByteRange>& out) const override;

private:
    std::vector<std::unique_ptr<PreTokenizer>> m_steps;
};

}  // namespace spyglass::core
