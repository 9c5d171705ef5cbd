#include "io/atomic_file.h"

#include "spyglass/error.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace spyglass::core {

AtomicFile::AtomicFile(std::filesystem::path path) : m_path(std::move(path))
{
    m_tmpPath = m_path;
    m_tmpPath += ".tmp." + std::to_string(::getpid());
    m_file = std::fopen(m_tmpPath.c_str(), "wb");
    if (!m_file) throw Error(m_path.string() + ": cannot write: " + std::strerror(errno));
}

AtomicFile::~AtomicFile()
{
    if (m_file) {
        std::fclose(m_file);
        std::error_code ec;
        std::filesystem::remove(m_tmpPath, ec);
    }
}

void AtomicFile::write(const char* data, size_t size)
{
    if (size && std::fwrite(data, 1, size, m_file) != size)
        throw Error(m_path.string() + ": write failed: " + std::strerror(errno));
}

void AtomicFile::commit()
{
    if (std::fflush(m_file) != 0 || ::fsync(::fileno(m_file)) != 0)
        throw Error(m_path.string() + ": write failed: " + std::strerror(errno));
    std::fclose(m_file);
    m_file = nullptr;
    std::error_code ec;
    std::filesystem::rename(m_tmpPath, m_path, ec);
    if (ec) {
        std::filesystem::remove(m_tmpPath, ec);
        throw Error(m_path.string() + ": cannot replace: " + ec.message());
    }
}

void writeFileAtomically(const std::filesystem::path& path, const std::string& text)
{
    AtomicFile out(path);
    out.write(text.data(), text.size());
    out.commit();
}

}  // namespace spyglass::core
