#pragma once
// AUTOMATIC1111's LoRA prompt syntax: "<lora:NAME:0.8>" (weight 1 when absent) anywhere in a prompt.
//
//   LoraTags t = extractLoraTags("a hand <lora:detail:0.6>, best quality");
//   t.prompt == "a hand , best quality";  t.loras == {{"detail", 0.6}}
//
// The tags are removed from the prompt (they are not words for the text encoder, as in A1111).
// Thread safety: pure function.
#include <string>
#include <vector>

namespace spyglass::core {

struct LoraTag {
    std::string name;
    double weight = 1.0;
};

struct LoraTags {
    std::string prompt;  // without the tags
    std::vector<LoraTag> loras;
};

// Throws Error quoting the tag for a malformed one ("<lora:>", a weight that is not a number,
// a name with a path separator).
[[nodiscard]] LoraTags extractLoraTags(const std::string& prompt);

}  // namespace spyglass::core
