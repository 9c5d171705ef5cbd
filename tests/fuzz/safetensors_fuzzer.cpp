// safetensors header + tensor table: open, list, read every small tensor (issue #9).
#include "fuzz_support.h"
#include "spyglass/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const auto path = spyglass::fuzz::writeScratch("model.safetensors", data, size);
    spyglass::fuzz::expectOnlyErrors([&] {
        const auto file = spyglass::core::SafetensorsFile::open(path);
        for (const auto& view : file->tensors())
            if (view.byteSize <= (1u << 20)) (void)file->readFloat(view.name);
    });
    return 0;
}
