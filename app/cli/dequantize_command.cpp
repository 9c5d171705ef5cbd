#include "cli/commands.h"
#include "cli/common_options.h"

#include "spyglass/gguf.h"

#include <iostream>

namespace spyglass::cli {

int runDequantize(const std::vector<std::string>& args)
{
    ArgParser parser("dequantize", "--model F.gguf --out F.safetensors");
    parser.addOption("model", "F.gguf", "GGUF file (a split model: its first part)");
    parser.addOption("out", "FILE", "safetensors file to write");
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout
            << parser.helpText()
            << "\nWrites every tensor of a GGUF file as F32 under its GGUF name, row-major [rows, row length],\n"
               "dequantized exactly as ggml does, with each tensor's GGUF type in the metadata (gguf_type.NAME),\n"
               "to see what quantization did.\n";
        return 0;
    }
    const std::string model = parser.required("model");
    const std::string out = parser.required("out");
    const std::size_t count = core::dequantizeGgufFile(model, out);
    logProgress("wrote " + std::to_string(count) + " tensors to " + out, true);
    return 0;
}

}  // namespace spyglass::cli
