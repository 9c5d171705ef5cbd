#include "tokenize/regex_splitter.h"

#include "spyglass/error.h"

#include <unicode/uregex.h>
#include <unicode/utext.h>

namespace spyglass::core {

namespace {

// Rewrites \s and \S (outside of \Q…\E) to White_Space property classes.
std::string translate(const std::string& pattern)
{
    std::string out;
    out.reserve(pattern.size() + 32);
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '\\' && i + 1 < pattern.size()) {
            const char next = pattern[i + 1];
            if (next == 's') {
                out += "\\p{White_Space}";
            } else if (next == 'S') {
                out += "\\P{White_Space}";
            } else if (next == 'Q') {
                const size_t end = pattern.find("\\E", i + 2);
                const size_t stop = end == std::string::npos ? pattern.size() : end + 2;
                out.append(pattern, i, stop - i);
                i = stop - 1;
                continue;
            } else {
                out.push_back('\\');
                out.push_back(next);
            }
            ++i;
            continue;
        }
        out.push_back(pattern[i]);
    }
    return out;
}

}  // namespace

RegexSplitter::RegexSplitter(const std::string& pattern)
{
    const std::string translated = translate(pattern);
    UErrorCode status = U_ZERO_ERROR;
    UParseError parseError{};
    UText* text = utext_openUTF8(nullptr, translated.data(), static_cast<int64_t>(translated.size()), &status);
    if (U_SUCCESS(status)) m_regex = uregex_openUText(text, 0, &parseError, &status);
    utext_close(text);
    if (U_FAILURE(status) || !m_regex)
        throw Error("regex '" + pattern + "' does not compile (" + u_errorName(status) + " at offset " +
                    std::to_string(parseError.offset) + ")");
}

RegexSplitter::~RegexSplitter()
{
    if (m_regex) uregex_close(m_regex);
}

std::vector<std::pair<size_t, size_t>> RegexSplitter::match(std::string_view input) const
{
    std::vector<std::pair<size_t, size_t>> out;
    if (input.empty()) return out;
    UErrorCode status = U_ZERO_ERROR;
    URegularExpression* regex = uregex_clone(m_regex, &status);
    UText* text = utext_openUTF8(nullptr, input.data(), static_cast<int64_t>(input.size()), &status);
    if (U_SUCCESS(status)) uregex_setUText(regex, text, &status);
    while (U_SUCCESS(status) && uregex_findNext(regex, &status)) {
        const int64_t begin = uregex_start64(regex, 0, &status);
        const int64_t end = uregex_end64(regex, 0, &status);
        if (U_SUCCESS(status) && end > begin) out.emplace_back(static_cast<size_t>(begin), static_cast<size_t>(end));
    }
    uregex_close(regex);
    utext_close(text);
    if (U_FAILURE(status)) throw Error(std::string("regex matching failed: ") + u_errorName(status));
    return out;
}

std::string RegexSplitter::quote(std::string_view literal)
{
    std::string out;
    for (char c : literal) {
        if (std::string_view("\\^$.|?*+()[]{}-/#&~ ").find(c) != std::string_view::npos) out.push_back('\\');
        out.push_back(c);
    }
    return out;
}

}  // namespace spyglass::core
