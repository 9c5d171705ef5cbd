// The single-file checkpoint key mapper (#16): the input's lines "key d0 d1 …" are a checkpoint's
// tensor names and shapes, mapped as an LDM checkpoint and as a separate VAE file. Every input maps
// or is rejected with spyglass::core::Error naming the file and the key.
#include "fuzz_support.h"
#include "image/ldm_checkpoint.h"

#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    spyglass::core::LdmTensorShapes tensors;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string key;
        if (!(fields >> key)) continue;
        std::vector<int64_t> shape;
        long long d = 0;
        while (shape.size() < 6 && fields >> d) shape.push_back(static_cast<int64_t>(d));
        tensors.emplace_back(key, shape);
    }
    spyglass::fuzz::expectOnlyErrors([&] {
        const auto ckpt = spyglass::core::mapLdmCheckpoint(tensors, "fuzz.safetensors");
        (void)ckpt.unet.config.dump();
    });
    spyglass::fuzz::expectOnlyErrors(
        [&] { (void)spyglass::core::mapVaeFile(tensors, "vae.safetensors").config.dump(); });
    return 0;
}
