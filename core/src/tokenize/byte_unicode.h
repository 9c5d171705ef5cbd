#pragma once
// The GPT-2 byte ↔ unicode map: every byte is shown as a printable character so BPE can work on
// text ("Ġ" is the space byte 0x20). Thread safety: pure functions over constant tables.
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace spyglass::core {

// UTF-8 encoding of the character that stands for `byte`.
[[nodiscard]] const std::string& byteToUnicode(unsigned char byte);
// Inverse of byteToUnicode over a whole token string; nullopt if a character is not in the map.
[[nodiscard]] std::optional<std::string> unicodeToBytes(std::string_view mapped);
// Appends the UTF-8 encoding of code point `cp`.
void appendUtf8(std::string& out, char32_t cp);

}  // namespace spyglass::core
