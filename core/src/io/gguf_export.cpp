#include "io/ggml_types.h"
#include "io/gguf_file.h"
#include "spyglass/error.h"
#include "spyglass/gguf.h"
#include "spyglass/safetensors.h"

namespace spyglass::core {

std::size_t dequantizeGgufFile(const std::filesystem::path& path, const std::filesystem::path& out)
{
    if (!looksLikeGguf(path)) throw Error(path.string() + ": not a GGUF file (no GGUF magic)");
    const auto gguf = GgufFile::open(path);
    SafetensorsWriter writer;
    writer.setMetadata("source", path.filename().string());
    for (const GgufTensor& t : gguf->tensors()) {
        HostTensor tensor;
        tensor.shape = t.shape;
        tensor.values = gguf->dequantize(t);
        writer.addFloat(t.name, tensor);
        writer.setMetadata("gguf_type." + t.name, ggmlTypeName(t.type));
    }
    writer.write(out);
    return gguf->tensors().size();
}

}  // namespace spyglass::core
