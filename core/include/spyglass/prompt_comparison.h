#pragma once
// PromptComparison — two prompts analysed with identical settings (A/B), their tokens aligned by
// the longest common subsequence of token texts, and NMF factors fitted jointly on both runs'
// activations so factor k means the same thing on both sides. JSON `spyglass.ab/1`
// (docs/report-format.md). The engine that fills it is comparePrompts() in analysis.h.
//
//   auto pairs = alignTokens({"The", " cat"}, {"The", " dog"});   // {0,0}, {1,−1}, {−1,1}
//
// Torch-free; thread safety: value types and pure functions.
#include "spyglass/report.h"

#include <optional>
#include <string>
#include <vector>

namespace spyglass::core {

struct TokenPair {
    int a = -1;  // index into A's tokens; −1: B's token has no partner
    int b = -1;
    friend bool operator==(const TokenPair&, const TokenPair&) = default;
};

// The longest common subsequence of equal strings, as one column per token of either side, in
// order (gaps of A before gaps of B between two matches). Throws Error past 25 million cells
// (e.g. two 5,000-token prompts).
[[nodiscard]] std::vector<TokenPair> alignTokens(const std::vector<std::string>& a, const std::vector<std::string>& b);

struct PromptComparison {
    Report a, b;                           // each with saliency and lens (their own factors off)
    std::vector<TokenPair> alignment;      // over all tokens, prompt and generated
    std::optional<FactorSection> factors;  // joint: positions 0 … |A|−1 are A's, then B's
};

// Each token's text as the alignment compares it ("#id" without a tokenizer).
[[nodiscard]] std::vector<std::string> tokenTexts(const Report& report);
// Per token: the mean saliency share it receives from the rows that explain later tokens (the
// report's first saliency section); 0 for tokens no row can see.
[[nodiscard]] std::vector<float> saliencyReceived(const Report& report);
// Per position: the index of the first lens layer whose top-1 is the token that comes next; −1
// when no layer gets it (and at the last position).
[[nodiscard]] std::vector<int> firstTopLayer(const Report& report);
// A's (or B's) rows of the joint factor strengths: k × that side's positions.
[[nodiscard]] std::vector<std::vector<float>> sideStrengths(const PromptComparison& comparison, bool sideB);

[[nodiscard]] std::string promptComparisonJson(const PromptComparison& comparison);

// The whole comparison (both reports in full, the alignment, the joint factors without their
// loadings) as one JSON document, and back: the Remote device's "compare" answer
// (docs/serve-protocol.md). The reader throws Error naming `source` and the member.
[[nodiscard]] std::string comparisonToWire(const PromptComparison& comparison);
[[nodiscard]] PromptComparison comparisonFromWire(const std::string& json, const std::string& source);

}  // namespace spyglass::core
