#pragma once
// ggml's tensor types as GGUF files store them: names, block sizes, bytes per block, and
// dequantization to float32 exactly as ggml's reference dequantize_row_* (and gguf-py) compute
// it: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K. Other known
// types (the IQ formats, Q8_1, Q8_K, integer types) have their sizes here so files that hold them
// open, and are refused by name when a tensor of theirs must be dequantized.
// Thread safety: pure functions.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace spyglass::core {

struct GgmlTypeInfo {
    const char* name;
    int64_t blockSize;  // values per block
    int64_t bytesPerBlock;
    bool dequantizable;  // dequantizeGgml() supports it
};

// nullopt for a type number ggml does not define (or that Spyglass does not know).
[[nodiscard]] std::optional<GgmlTypeInfo> ggmlTypeInfo(uint32_t type);
// "Q4_K" or "type 99".
[[nodiscard]] std::string ggmlTypeName(uint32_t type);
// "F32, F16, BF16, Q4_0, …"
[[nodiscard]] std::string dequantizableGgmlTypes();

// Writes `count` floats (a whole number of blocks) decoded from `data`. Throws Error for a type
// that dequantizableGgmlTypes() does not list.
void dequantizeGgml(uint32_t type, const std::byte* data, int64_t count, float* out);

// IEEE half → float, exact (subnormals, infinities and NaN included).
[[nodiscard]] float ggmlHalfToFloat(uint16_t half);

}  // namespace spyglass::core
