// llama2.c checkpoint headers (7 int32 then float32 tensors): the raw input as a checkpoint file,
// and, when its first 28 bytes are a plausible header of a small model, that header followed by
// exactly the floats it implies — which must then be accepted.
#include "fuzz_support.h"
#include "models/llama2c_header.h"

#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace spyglass::core;
    const auto path = spyglass::fuzz::writeScratch("model.bin", data, size);
    const bool looks = looksLikeLlama2c(path);
    bool read = false;
    spyglass::fuzz::expectOnlyErrors([&] {
        (void)readLlama2cHeader(path);
        read = true;
    });
    if (looks != read) std::abort();  // the two checks must agree
    if (size < 28) return 0;
    Llama2cHeader h;
    std::memcpy(&h, data, 28);
    if (!h.plausible() || h.floatCount() > (1u << 18)) return 0;
    std::vector<uint8_t> file(28 + 4 * h.floatCount(), 0);
    std::memcpy(file.data(), data, 28);
    const auto exact = spyglass::fuzz::writeScratch("exact.bin", file.data(), file.size());
    if (!looksLikeLlama2c(exact)) std::abort();
    const Llama2cHeader back = readLlama2cHeader(exact);
    if (back.floatCount() != h.floatCount()) std::abort();
    return 0;
}
