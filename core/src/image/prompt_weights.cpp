#include "spyglass/prompt_weights.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace spyglass::core {

namespace {

// ":" followed by a number and ")" (spaces allowed): the explicit weight, and where it ends.
bool explicitWeight(const std::string& s, size_t colon, double& weight, size_t& end)
{
    size_t i = colon + 1;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    const size_t numberStart = i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    bool digit = false;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
        digit = digit || std::isdigit(static_cast<unsigned char>(s[i]));
        ++i;
    }
    if (!digit) return false;
    const std::string number = s.substr(numberStart, i - numberStart);
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i >= s.size() || s[i] != ')') return false;
    char* parsedEnd = nullptr;
    weight = std::strtod(number.c_str(), &parsedEnd);
    if (parsedEnd != number.c_str() + number.size() || !std::isfinite(weight)) return false;
    end = i + 1;
    return true;
}

}  // namespace

std::vector<WeightedText> parsePromptWeights(const std::string& s)
{
    std::vector<WeightedText> res;
    std::vector<size_t> round, square;
    auto multiply = [&](size_t from, double factor) {  // kept finite however deep the nesting
        for (size_t p = from; p < res.size(); ++p) res[p].weight = std::clamp(res[p].weight * factor, -1e4, 1e4);
    };
    auto append = [&](const std::string& text) { res.push_back({text, 1.0}); };
    size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (c == '\\' && i + 1 < s.size() &&
            (s[i + 1] == '(' || s[i + 1] == ')' || s[i + 1] == '[' || s[i + 1] == ']' || s[i + 1] == '\\')) {
            append(std::string(1, s[i + 1]));
            i += 2;
        } else if (c == '(') {
            round.push_back(res.size());
            ++i;
        } else if (c == '[') {
            square.push_back(res.size());
            ++i;
        } else if (c == ':' && !round.empty()) {
            double weight = 1.0;
            size_t end = 0;
            if (explicitWeight(s, i, weight, end)) {
                multiply(round.back(), weight);
                round.pop_back();
                i = end;
            } else {
                append(":");
                ++i;
            }
        } else if (c == ')' && !round.empty()) {
            multiply(round.back(), 1.1);
            round.pop_back();
            ++i;
        } else if (c == ']' && !square.empty()) {
            multiply(square.back(), 1 / 1.1);
            square.pop_back();
            ++i;
        } else {
            size_t j = i + 1;
            if (c != ')' && c != ']' && c != ':' && c != '\\')
                while (j < s.size() && s[j] != '(' && s[j] != ')' && s[j] != '[' && s[j] != ']' && s[j] != ':' &&
                       s[j] != '\\')
                    ++j;
            append(s.substr(i, j - i));
            i = j;
        }
    }
    for (size_t p : round) multiply(p, 1.1);
    for (size_t p : square) multiply(p, 1 / 1.1);
    std::vector<WeightedText> merged;
    for (const auto& piece : res) {
        if (!merged.empty() && merged.back().weight == piece.weight)
            merged.back().text += piece.text;
        else
            merged.push_back(piece);
    }
    if (merged.empty()) merged.push_back({"", 1.0});
    return merged;
}

}  // namespace spyglass::core
