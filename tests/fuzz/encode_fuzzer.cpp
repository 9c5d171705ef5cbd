// Encoding arbitrary bytes (invalid UTF-8 included) with GPT-2's byte-level BPE and the CLIP
// tokenizer: never a crash, offsets inside the text and in order, GPT-2 round-trips byte-exactly.
#include "fuzz_support.h"
#include "image/clip_tokenizer.h"
#include "spyglass/tokenizer.h"

#include <cstdlib>
#include <string_view>

namespace {

const spyglass::core::Tokenizer& gpt2()
{
    static const auto t =
        spyglass::core::Tokenizer::fromTokenizerJson(SPYGLASS_FIXTURES_DIR "/gpt2-tokenizer/tokenizer.json");
    return *t;
}

const spyglass::core::ClipTokenizer& clip()
{
    static const auto t = spyglass::core::ClipTokenizer::load(SPYGLASS_FIXTURES_DIR "/sd-tiny-random/tokenizer");
    return *t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto e = gpt2().encode(text);
    size_t end = 0;
    for (const auto& [b, f] : e.offsets) {
        if (b > f || f > size || b < end) std::abort();
        end = f;
    }
    if (gpt2().decode(e.ids) != text) std::abort();  // byte-level BPE is lossless
    const auto c = clip().encode(std::string(text));
    for (const auto& [b, f] : c.offsets)
        if (b > f || f > c.text.size()) std::abort();
    return 0;
}
