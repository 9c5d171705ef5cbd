#pragma once
// Reading and writing safetensors files (https://github.com/huggingface/safetensors).
//
//   auto file = SafetensorsFile::open("model.safetensors");     // mmap + full validation
//   const TensorView& w = file->get("wte.weight");               // zero-copy view
//   HostTensor f = file->readFloat("wte.weight");                 // F32/F16/BF16/F64 → float
//
//   SafetensorsWriter out;
//   out.addFloat("logits", tensor);
//   out.write("trace.safetensors");                               // atomic (temp file + rename)
//
// Every malformed file is rejected when opened, with a message naming the file, the tensor and
// the reason. Thread safety: an opened file is immutable and may be read from any thread; a
// writer is not thread-safe.
#include "spyglass/host_tensor.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spyglass::core {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool };

[[nodiscard]] size_t dtypeSize(DType dtype);
[[nodiscard]] std::string_view dtypeName(DType dtype);
[[nodiscard]] std::optional<DType> parseDType(std::string_view name);

struct TensorView {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    const std::byte* data = nullptr;  // into the mapped file; valid while the file lives
    size_t byteSize = 0;

    [[nodiscard]] int64_t numel() const;
};

class MappedFile;

class SafetensorsFile {
public:
    // Limits against hostile headers: header bytes and tensor count.
    static constexpr uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;
    static constexpr size_t kMaxTensors = 1'000'000;

    static std::shared_ptr<const SafetensorsFile> open(const std::filesystem::path& path);
    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
    [[nodiscard]] const std::vector<TensorView>& tensors() const { return m_tensors; }
    [[nodiscard]] const std::map<std::string, std::string>& metadata() const { return m_metadata; }
    [[nodiscard]] const TensorView* find(std::string_view name) const;
    // Throws Error naming the file when the tensor is absent.
    [[nodiscard]] const TensorView& get(std::string_view name) const;
    // Converts any float dtype (and integer dtypes) to float32.
    [[nodiscard]] HostTensor readFloat(std::string_view name) const;
    [[nodiscard]] std::vector<int64_t> readInt64(std::string_view name) const;

private:
    SafetensorsFile() = default;
    void parse();

    std::filesystem::path m_path;
    std::shared_ptr<const MappedFile> m_file;
    size_t m_mapSize = 0;
    std::vector<TensorView> m_tensors;
    std::map<std::string, size_t, std::less<>> m_index;
    std::map<std::string, std::string> m_metadata;
};

// Float32 → IEEE half / bfloat16 bits, rounding to nearest even (NaN stays NaN).
[[nodiscard]] uint16_t floatToHalf(float value);
[[nodiscard]] uint16_t floatToBFloat16(float value);

// Converts `count` elements of `dtype` at `src` to float32 (F64/F32/F16/BF16/I64/I32/I16/I8/U8/Bool).
void convertToFloat(DType dtype, const std::byte* src, size_t count, float* dst);

class SafetensorsWriter {
public:
    void add(const std::string& name, DType dtype, std::vector<int64_t> shape, std::vector<std::byte> bytes);
    // Stores `tensor` as F32, or converted to F16/BF16 (round to nearest even) when asked.
    void addFloat(const std::string& name, const HostTensor& tensor, DType storeAs = DType::F32);
    void addInt64(const std::string& name, const std::vector<int64_t>& values);
    void setMetadata(const std::string& key, const std::string& value) { m_metadata[key] = value; }
    // Writes to `path` + ".tmp" and renames, so a reader never sees a half-written file.
    void write(const std::filesystem::path& path) const;

private:
    struct Entry {
        std::string name;
        DType dtype;
        std::vector<int64_t> shape;
        std::vector<std::byte> bytes;
    };
    std::vector<Entry> m_entries;
    std::map<std::string, std::string> m_metadata;
};

}  // namespace spyglass::core
