// vocab.json + merges.txt (the input is split at the first NUL byte), then encoding.
#include "fuzz_support.h"
#include "spyglass/tokenizer.h"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const uint8_t* split = std::find(data, data + size, uint8_t{0});
    const auto vocab = spyglass::fuzz::writeScratch("vocab.json", data, static_cast<size_t>(split - data));
    const size_t rest = split == data + size ? 0 : static_cast<size_t>(data + size - split - 1);
    const auto merges = spyglass::fuzz::writeScratch("merges.txt", split == data + size ? split : split + 1, rest);
    spyglass::fuzz::expectOnlyErrors([&] {
        const auto t = spyglass::core::Tokenizer::fromVocabMerges(vocab, merges);
        (void)t->encode("low lower lowest 42");
    });
    return 0;
}
