#pragma once
// RegexSplitter — finds regex matches in UTF-8 text and reports them as byte ranges, with the
// Unicode semantics of the regex engines tokenizers were defined with (Python `regex`, Oniguruma):
// `\s` is the Unicode White_Space property (ICU's own `\s` lacks U+000B and U+0085).
// Thread safety: match() is const and safe from several threads (each call clones the pattern).
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct URegularExpression;

namespace spyglass::core {

class RegexSplitter {
public:
    // Throws Error naming the pattern when it does not compile.
    explicit RegexSplitter(const std::string& pattern);
    ~RegexSplitter();
    RegexSplitter(const RegexSplitter&) = delete;
    RegexSplitter& operator=(const RegexSplitter&) = delete;

    // Non-empty matches, left to right, as byte ranges [begin, end) into `text`.
    [[nodiscard]] std::vector<std::pair<size_t, size_t>> match(std::string_view text) const;

    // Escapes `literal` so that it matches itself.
    [[nodiscard]] static std::string quote(std::string_view literal);

private:
    URegularExpression* m_regex = nullptr;
};

}  // namespace spyglass::core
