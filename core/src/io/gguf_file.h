#pragma once
// GgufFile — a GGUF model file (llama.cpp's format, versions 2 and 3, little-endian) mapped into
// memory: every metadata value (nested arrays included) and every tensor's name, type, shape and
// bytes. Split models (`split.count` parts named NAME-0000k-of-0000n.gguf) open from their first
// part. Hostile files never make it allocate without bound: counts, string lengths, dimensions,
// offsets, the alignment and block sizes are checked against the file before use, and every
// failure names the file and the field.
//
//   auto gguf = GgufFile::open("model.Q4_K_M.gguf");
//   std::string arch = gguf->string("general.architecture");
//   const GgufTensor& t = gguf->tensor("token_embd.weight");     // t.shape is row-major
//   std::vector<float> w = gguf->dequantize(t);                    // exactly as ggml does
//
// Thread safety: immutable after opening; read from any thread.
#include "io/mapped_file.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spyglass::core {

// GGUF metadata value types (gguf.h's enum gguf_type).
enum class GgufType : uint32_t { U8 = 0, I8, U16, I16, U32, I32, F32, Bool, String, Array, U64, I64, F64 };

struct GgufValue {
    GgufType type = GgufType::U8;
    GgufType elementType = GgufType::U8;  // arrays
    int64_t integer = 0;                  // integer types and Bool (U64 above 2^63 keeps its bits)
    double number = 0;                    // every numeric type
    std::string text;                     // String
    // Arrays: strings, numbers (as double, with the integers beside them), or nested arrays.
    std::vector<std::string> strings;
    std::vector<double> numbers;
    std::vector<int64_t> integers;
    std::vector<GgufValue> arrays;
    uint64_t length = 0;  // element count of an array

    [[nodiscard]] bool isInteger() const;
    [[nodiscard]] bool isNumber() const { return isInteger() || type == GgufType::F32 || type == GgufType::F64; }
};

struct GgufTensor {
    std::string name;
    uint32_t type = 0;           // ggml type (ggml_types.h)
    std::vector<int64_t> ne;     // GGUF order: ne[0] is the row length
    std::vector<int64_t> shape;  // row-major: ne reversed
    const std::byte* data = nullptr;
    uint64_t byteSize = 0;
    std::string file;  // the part that holds it (file name)

    [[nodiscard]] int64_t numel() const;
};

class GgufFile {
public:
    // Limits against hostile files (far above any real model).
    static constexpr uint64_t kMaxStringBytes = 64ull << 20;
    static constexpr int kMaxArrayDepth = 8;
    static constexpr uint32_t kMaxDims = 4;

    // Opens a .gguf file; a first split part opens the others beside it. Throws Error naming the
    // file and the field.
    static std::shared_ptr<const GgufFile> open(const std::filesystem::path& path);

    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
    [[nodiscard]] uint32_t version() const { return m_version; }
    [[nodiscard]] const std::map<std::string, GgufValue, std::less<>>& metadata() const { return m_metadata; }
    [[nodiscard]] const std::vector<GgufTensor>& tensors() const { return m_tensors; }
    [[nodiscard]] const GgufValue* find(std::string_view key) const;
    [[nodiscard]] const GgufTensor* findTensor(std::string_view name) const;
    // Throws Error naming the file and the tensor when it is absent.
    [[nodiscard]] const GgufTensor& tensor(std::string_view name) const;

    // Typed reads: throw Error naming the file and key when absent or of another type.
    [[nodiscard]] std::string string(std::string_view key) const;
    [[nodiscard]] int64_t integer(std::string_view key) const;
    [[nodiscard]] double number(std::string_view key) const;
    [[nodiscard]] bool boolean(std::string_view key) const;
    [[nodiscard]] std::optional<int64_t> optionalInteger(std::string_view key) const;
    [[nodiscard]] std::optional<double> optionalNumber(std::string_view key) const;
    [[nodiscard]] std::optional<bool> optionalBoolean(std::string_view key) const;
    [[nodiscard]] const std::vector<std::string>& strings(std::string_view key) const;
    [[nodiscard]] const std::vector<double>& numbers(std::string_view key) const;

    // Float32 values of a tensor (row-major), dequantized exactly as ggml does.
    [[nodiscard]] std::vector<float> dequantize(const GgufTensor& tensor) const;
    // Writes the tensor's values to `out` (numel floats); false when any is NaN or ±Inf.
    [[nodiscard]] bool dequantizeInto(const GgufTensor& tensor, float* out) const;

private:
    GgufFile() = default;
    void parsePart(const std::shared_ptr<const MappedFile>& map, const std::filesystem::path& path, bool first);

    std::filesystem::path m_path;
    uint32_t m_version = 0;
    std::vector<std::shared_ptr<const MappedFile>> m_parts;
    std::map<std::string, GgufValue, std::less<>> m_metadata;
    std::vector<GgufTensor> m_tensors;
    std::map<std::string, size_t, std::less<>> m_index;
};

// True when the file starts with the GGUF magic (either byte order).
[[nodiscard]] bool looksLikeGguf(const std::filesystem::path& path);

}  // namespace spyglass::core
