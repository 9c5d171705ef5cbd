#pragma once
// How the heatmaps name words (DAAM-style): in cleaned, lower-cased prompt text, letters and digits
// together ("8k"), every other non-space character its own word.
#include <string>
#include <utility>
#include <vector>

namespace spyglass::core {

// Byte ranges of the words of `cleaned` (ClipTokenizer::clean output), left to right.
[[nodiscard]] std::vector<std::pair<size_t, size_t>> heatmapWordSpans(const std::string& cleaned);

}  // namespace spyglass::core
