#pragma once
// MappedFile — a whole file mapped read-only into memory (safetensors, GGUF). Errors name the path.
// Thread safety: immutable after opening; the bytes stay valid while the object lives.
#include <cstddef>
#include <filesystem>
#include <string>

namespace spyglass::core {

class MappedFile {
public:
    // Throws Error "<path>: <reason>" (a folder, cannot open, cannot map). `what` names the
    // expected kind in the folder message ("a safetensors file").
    MappedFile(const std::filesystem::path& path, const std::string& what);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    [[nodiscard]] const std::byte* data() const { return static_cast<const std::byte*>(m_map); }
    [[nodiscard]] size_t size() const { return m_size; }

    // For a range inside a mapping, before and after reading it once (loading weights): populate
    // maps its pages in one call instead of a fault per page; release drops the whole pages inside
    // it from this process (they stay in the page cache, and a later read faults them in again),
    // so that a model's file and its float32 copy are not both resident. Both are hints: errors are
    // ignored.
    static void populate(const std::byte* begin, size_t size);
    static void release(const std::byte* begin, size_t size);

private:
    void* m_map = nullptr;
    size_t m_size = 0;
};

}  // namespace spyglass::core
