// GGUF files (#15): the reader (header, metadata of every type incl. nested arrays, tensor infos,
// alignment, bounds), dequantization of every tensor it accepts, the embedded tokenizer and the
// mapping to a Hugging Face model — as LanguageModel::load does before the engine sees a tensor.
#include "fuzz_support.h"

#include "io/gguf_file.h"
#include "models/gguf_model_source.h"
#include "spyglass/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const auto path = spyglass::fuzz::writeScratch("model.gguf", data, size);
    spyglass::fuzz::expectOnlyErrors([&] {
        const auto gguf = spyglass::core::GgufFile::open(path);
        for (const auto& t : gguf->tensors())
            if (t.numel() <= (1 << 20)) (void)gguf->dequantize(t);
        if (auto tokenizer = spyglass::core::Tokenizer::fromGguf(*gguf))
            (void)tokenizer->encode("Hello world, 123 héllo");
        (void)spyglass::core::ggufModelSource(gguf);
    });
    return 0;
}
