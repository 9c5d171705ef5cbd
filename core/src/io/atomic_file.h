#pragma once
// AtomicFile — writes to "<path>.tmp.<pid>" and renames over <path> on commit(), so readers never
// see a half-written file and a crash leaves the previous file intact.
// Thread safety: one writer per object.
#include <cstdio>
#include <filesystem>
#include <string>

namespace spyglass::core {

class AtomicFile {
public:
    explicit AtomicFile(std::filesystem::path path);
    ~AtomicFile();  // removes the temporary file when commit() was not reached
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(const char* data, size_t size);
    void commit();

private:
    std::filesystem::path m_path;
    std::filesystem::path m_tmpPath;
    std::FILE* m_file = nullptr;
};

// The whole of `text` through an AtomicFile.
void writeFileAtomically(const std::filesystem::path& path, const std::string& text);

}  // namespace spyglass::core
