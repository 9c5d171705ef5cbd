#include "spyglass/lora_tags.h"

#include "spyglass/error.h"

#include <cmath>
#include <cstdlib>

namespace spyglass::core {

LoraTags extractLoraTags(const std::string& prompt)
{
    LoraTags out;
    size_t pos = 0;
    while (pos < prompt.size()) {
        const size_t open = prompt.find("<lora:", pos);
        if (open == std::string::npos) {
            out.prompt += prompt.substr(pos);
            break;
        }
        out.prompt += prompt.substr(pos, open - pos);
        const size_t close = prompt.find('>', open);
        if (close == std::string::npos)
            throw Error("prompt: the LoRA tag '" + prompt.substr(open, 40) + "' has no closing '>'");
        const std::string tag = prompt.substr(open, close - open + 1);
        const std::string body = prompt.substr(open + 6, close - open - 6);
        const size_t colon = body.find(':');
        LoraTag t;
        t.name = body.substr(0, colon);
        if (t.name.empty()) throw Error("prompt: the LoRA tag '" + tag + "' names no LoRA");
        if (t.name.find('/') != std::string::npos || t.name.find('\\') != std::string::npos || t.name == ".." ||
            t.name == ".")
            throw Error("prompt: the LoRA tag '" + tag + "' must name a file of the LoRA folder, not a path");
        if (colon != std::string::npos) {
            const std::string weight = body.substr(colon + 1);
            if (weight.find(':') != std::string::npos)
                throw Error("prompt: the LoRA tag '" + tag +
                            "' has more than one weight (separate text-encoder/UNet "
                            "weights are not supported)");
            char* end = nullptr;
            t.weight = std::strtod(weight.c_str(), &end);
            if (weight.empty() || end != weight.c_str() + weight.size() || !std::isfinite(t.weight))
                throw Error("prompt: the LoRA tag '" + tag + "' has a weight that is not a number");
        }
        out.loras.push_back(t);
        pos = close + 1;
    }
    return out;
}

}  // namespace spyglass::core
