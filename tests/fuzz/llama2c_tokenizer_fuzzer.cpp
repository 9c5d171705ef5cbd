// llama2.c's tokenizer.bin (max token length, then per token a score, a length and the bytes).
#include "fuzz_support.h"
#include "spyglass/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const auto path = spyglass::fuzz::writeScratch("tokenizer.bin", data, size);
    spyglass::fuzz::expectOnlyErrors([&] {
        const auto t = spyglass::core::Tokenizer::fromLlama2cFile(path);
        const auto e = t->encode("Once upon a time \xe2\x80\x94 123");
        (void)t->decode(e.ids);
    });
    return 0;
}
