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

// As dequantizeGgml, for loading weights: written in L2-sized pieces, each checked for NaN/±Inf
// right after it is written (no second pass over memory, no allocation), on two threads when the
// tensor is large. Returns false when any value is NaN or ±Inf. Safetensors' F32/F16/BF16 go
// through it as ggml types 0/1/30.
[[nodiscard]] bool dequantizeGgmlChecked(uint32_t type, const std::byte* data, int64_t count, float* out);

// No NaN or ±Inf among `count` floats (one vectorised pass over the exponent bits).
[[nodiscard]] bool allFinite(const float* values, int64_t count);

// IEEE half → float, exact (subnormals, infinities and NaN included).
[[nodiscard]] float ggmlHalfToFloat(uint16_t half);

// IEEE half / bfloat16 values → float32, exactly (every one is a float); F16C when the CPU has it.
// Used for GGUF's F16/BF16 tensors and safetensors' F16/BF16 weights alike.
void halvesToFloats(const std::byte* data, int64_t count, float* out);
void bfloat16sToFloats(const std::byte* data, int64_t count, float* out);

}  // namespace spyglass::core
