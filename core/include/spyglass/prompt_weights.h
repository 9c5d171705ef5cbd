#pragma once
// Prompt emphasis the way AUTOMATIC1111's web UI reads it: "(x)" multiplies x's weight by 1.1,
// "[x]" divides it by 1.1, "(x:1.3)" sets a factor of 1.3, nesting multiplies, "\(" is a literal
// bracket. The weights scale the text encoder's output rows of those tokens, then the whole
// embedding is rescaled to its original mean.
//
//   parsePromptWeights("a (red:1.3) circle") → {{"a ", 1}, {"red", 1.3}, {" circle", 1}}
//
// Thread safety: pure function.
#include <string>
#include <utility>
#include <vector>

namespace spyglass::core {

struct WeightedText {
    std::string text;
    double weight = 1.0;
    bool operator==(const WeightedText&) const = default;
};

// Neighbouring pieces of equal weight are merged; an empty prompt gives {{"", 1}}.
[[nodiscard]] std::vector<WeightedText> parsePromptWeights(const std::string& prompt);

}  // namespace spyglass::core
