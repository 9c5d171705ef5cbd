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

private:
    void* m_map = nullptr;
    size_t m_size = 0;
};

}  // namespace spyglass::core
