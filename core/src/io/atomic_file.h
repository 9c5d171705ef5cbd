#pragma once
// AtomicFile — writes to "<path>.tmp.<pid>" and renames over <path> on commit(), so readers never
// see a half-written file and a crash leaves the previous file intact. Temporary files left by
// writers that were killed (their pid is gone) are removed by the next writer of the same path.
// A symbolic link is written through (the file it points to is replaced); a path that is not a
// regular file (/dev/null, a FIFO) is written directly, never renamed over.
// Thread safety: one writer per object.
#include "spyglass/atomic_write.h"

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
    bool m_direct = false;  // a device or FIFO: written in place
};

}  // namespace spyglass::core
