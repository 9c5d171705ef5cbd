#include "io/mapped_file.h"

#include "spyglass/error.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace spyglass::core {

MappedFile::MappedFile(const std::filesystem::path& path, const std::string& what)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw Error(path.string() + ": is a directory, expected " + what);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path.string() + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        throw Error(path.string() + ": cannot stat: " + std::strerror(err));
    }
    m_size = static_cast<size_t>(st.st_size);
    if (m_size > 0) {
        void* map = ::mmap(nullptr, m_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            const int err = errno;
            ::close(fd);
            throw Error(path.string() + ": cannot map into memory: " + std::strerror(err));
        }
        m_map = map;
    }
    ::close(fd);
}

namespace {

uintptr_t pageSize()
{
    static const auto size = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    return size;
}

}  // namespace

void MappedFile::populate(const std::byte* begin, size_t size)
{
    if (size == 0) return;
#ifndef MADV_POPULATE_READ
    constexpr int MADV_POPULATE_READ = 22;  // Linux 5.14
#endif
    const auto start = reinterpret_cast<uintptr_t>(begin) & ~(pageSize() - 1);
    const auto end = reinterpret_cast<uintptr_t>(begin) + size;
    (void)::madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_READ);
}

void MappedFile::release(const std::byte* begin, size_t size)
{
    const uintptr_t page = pageSize();
    const auto start = (reinterpret_cast<uintptr_t>(begin) + page - 1) & ~(page - 1);
    const auto end = (reinterpret_cast<uintptr_t>(begin) + size) & ~(page - 1);
    if (end > start) (void)::madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
}

MappedFile::~MappedFile()
{
    if (m_map) ::munmap(m_map, m_size);
}

}  // namespace spyglass::core
