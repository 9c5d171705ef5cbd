// Prompt emphasis "(x:1.2)", "((x))", "[x]", "\(": parsing never fails and keeps the text.
#include "spyglass/prompt_weights.h"

#include <cmath>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string prompt(reinterpret_cast<const char*>(data), size);
    size_t total = 0;
    for (const auto& piece : spyglass::core::parsePromptWeights(prompt)) {
        if (std::isnan(piece.weight)) std::abort();
        total += piece.text.size();
    }
    if (total > size) std::abort();
    return 0;
}
