#include "tokenize/byte_unicode.h"

#include <unordered_map>

namespace spyglass::core {

namespace {

struct Tables {
    std::array<std::string, 256> forward;
    std::unordered_map<char32_t, unsigned char> backward;

    Tables()
    {
        // bytes_to_unicode() of GPT-2's encoder.py: printable Latin-1 maps to itself, the rest to
        // 256, 257, … in byte order.
        std::array<bool, 256> direct{};
        for (int b = '!'; b <= '~'; ++b) direct[b] = true;
        for (int b = 0xA1; b <= 0xAC; ++b) direct[b] = true;
        for (int b = 0xAE; b <= 0xFF; ++b) direct[b] = true;
        char32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            const char32_t cp = direct[b] ? static_cast<char32_t>(b) : next++;
            appendUtf8(forward[b], cp);
            backward[cp] = static_cast<unsigned char>(b);
        }
    }
};

const Tables& tables()
{
    static const Tables t;
    return t;
}

}  // namespace

void appendUtf8(std::string& out, char32_t cp)
{
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

const std::string& byteToUnicode(unsigned char byte)
{
    return tables().forward[byte];
}

std::optional<std::string> unicodeToBytes(std::string_view mapped)
{
    std::string out;
    const auto& back = tables().backward;
    size_t i = 0;
    while (i < mapped.size()) {
        const auto c = static_cast<unsigned char>(mapped[i]);
        char32_t cp = 0;
        size_t len = 1;
        if (c < 0x80) {
            cp = c;
        } else if ((c & 0xE0) == 0xC0 && i + 1 < mapped.size()) {
            cp = ((c & 0x1F) << 6) | (static_cast<unsigned char>(mapped[i + 1]) & 0x3F);
            len = 2;
        } else {
            return std::nullopt;  // every mapped character is below U+0800
        }
        const auto it = back.find(cp);
        if (it == back.end()) return std::nullopt;
        out.push_back(static_cast<char>(it->second));
        i += len;
    }
    return out;
}

}  // namespace spyglass::core
