// A1111 / Forge PNG parameters (#16): the bytes as a PNG whose "parameters" text chunk is read
// (truncated chunks, compressed text, Latin-1), and as the parameters text itself, parsed, applied
// to a run's options, formatted and parsed again. Only spyglass::core::Error may come out.
#include "fuzz_support.h"
#include "spyglass/generation_parameters.h"

#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    spyglass::fuzz::expectOnlyErrors([&] {
        const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + bytes;
        if (const auto text = spyglass::core::readPngText(png, "parameters", "fuzz.png"))
            if (text->size() > 2 * png.size()) std::abort();
    });
    const auto p = spyglass::core::parseGenerationParameters(bytes);
    spyglass::core::DiffusionOptions o;
    (void)spyglass::core::applyGenerationParameters(p, o);
    if (o.steps < 0 || o.clipSkip < 0) std::abort();
    (void)spyglass::core::parseGenerationParameters(spyglass::core::formatGenerationParameters(p));
    return 0;
}
