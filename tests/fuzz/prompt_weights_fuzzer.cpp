// Prompt emphasis "(x:1.2)", "((x))", "[x]", "\(": parsing never fails and keeps the text; A1111's
// <lora:NAME:W> tags are taken out or rejected with spyglass::core::Error.
#include "fuzz_support.h"
#include "spyglass/lora_tags.h"
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
    spyglass::fuzz::expectOnlyErrors([&] {
        const auto tags = spyglass::core::extractLoraTags(prompt);
        if (tags.prompt.size() > size) std::abort();
        for (const auto& t : tags.loras)
            if (t.name.empty() || !std::isfinite(t.weight)) std::abort();
    });
    return 0;
}
