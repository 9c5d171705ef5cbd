#pragma once
// SHA-256 (FIPS 180-4) of byte streams and files, for recording which weights a report used.
#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace spyglass::core {

class Sha256 {
public:
    // Fastest: the x86 SHA extensions when the CPU has them (~2 GB/s), else portable code.
    enum class Implementation { Fastest, Portable };
    explicit Sha256(Implementation implementation = Implementation::Fastest);
    void update(const void* data, size_t size);
    [[nodiscard]] std::string hexDigest();  // finishes the hash
    [[nodiscard]] bool hardwareAccelerated() const;

private:
    void blocks(const uint8_t* data, size_t count);
    void block(const uint8_t* chunk);
    std::array<uint32_t, 8> m_state;
    std::array<uint8_t, 64> m_buffer{};
    size_t m_buffered = 0;
    uint64_t m_length = 0;
    bool m_hardware = false;
};

// Hash of the files' contents concatenated in the given order; throws Error naming a file it cannot
// read. When `stop` becomes true it gives up and returns "".
[[nodiscard]] std::string sha256Files(const std::vector<std::filesystem::path>& files,
                                      const std::atomic<bool>* stop = nullptr);

// As sha256Files, remembering results in $XDG_CACHE_HOME/spyglass/sha256-cache.json (default
// ~/.cache) keyed by absolute path, size and modification time, so a large checkpoint is hashed
// once. Cache problems are ignored (the hash is then computed).
[[nodiscard]] std::string sha256FilesCached(const std::vector<std::filesystem::path>& files,
                                            const std::atomic<bool>* stop = nullptr);

}  // namespace spyglass::core
