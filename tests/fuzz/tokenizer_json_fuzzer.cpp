// tokenizer.json loading (BPE models, pre-tokenizers, normalizers, added tokens), then encoding.
#include "fuzz_support.h"
#include "spyglass/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const auto path = spyglass::fuzz::writeScratch("tokenizer.json", data, size);
    spyglass::fuzz::expectOnlyErrors([&] {
        const auto t = spyglass::core::Tokenizer::fromTokenizerJson(path);
        const auto e = t->encode("Hello, world! 123 \xF0\x9F\x98\x80 \xff");
        (void)t->decode(e.ids);
    });
    return 0;
}
