#include "io/atomic_file.h"

#include "spyglass/error.h"

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace spyglass::core {

namespace {

// Removes "<name>.tmp.<pid>" files beside `path` whose writer process no longer exists.
void removeOrphanedTemporaries(const std::filesystem::path& path)
{
    const std::string prefix = path.filename().string() + ".tmp.";
    std::error_code ec;
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string pidText = name.substr(prefix.size());
        if (pidText.find_first_not_of("0123456789") != std::string::npos || pidText.size() > 9) continue;
        const pid_t pid = static_cast<pid_t>(std::stol(pidText));
        if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) {
            std::error_code ignored;
            std::filesystem::remove(entry.path(), ignored);
        }
    }
}

long midWritePauseMs()
{
    static const long ms = [] {
        const char* text = std::getenv("SPYGLASS_TEST_PAUSE_MID_WRITE_MS");
        return text ? std::strtol(text, nullptr, 10) : 0L;
    }();
    return ms;
}

}  // namespace

void pauseMidWriteForTests()
{
    if (midWritePauseMs() <= 0) return;
    std::fprintf(stderr, "spyglass: paused mid-write for a test (%ld ms)\n", midWritePauseMs());
    std::fflush(stderr);
    std::this_thread::sleep_for(std::chrono::milliseconds(midWritePauseMs()));
}

AtomicFile::AtomicFile(std::filesystem::path path) : m_path(std::move(path))
{
    std::error_code ec;
    const auto status = std::filesystem::status(m_path, ec);  // follows links
    if (!ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status) &&
        !std::filesystem::is_directory(status)) {
        m_direct = true;
        m_file = std::fopen(m_path.c_str(), "wb");
        if (!m_file) throw Error(m_path.string() + ": cannot write: " + std::strerror(errno));
        return;
    }
    if (std::filesystem::is_symlink(std::filesystem::symlink_status(m_path, ec))) {
        const auto target = std::filesystem::weakly_canonical(m_path, ec);
        if (!ec) m_path = target;
    }
    removeOrphanedTemporaries(m_path);
    m_tmpPath = m_path;
    m_tmpPath += ".tmp." + std::to_string(::getpid());
    m_file = std::fopen(m_tmpPath.c_str(), "wb");
    if (!m_file) throw Error(m_path.string() + ": cannot write: " + std::strerror(errno));
}

AtomicFile::~AtomicFile()
{
    if (!m_file) return;
    std::fclose(m_file);
    std::error_code ec;
    if (!m_direct) std::filesystem::remove(m_tmpPath, ec);
}

void AtomicFile::write(const char* data, size_t size)
{
    size_t done = 0;
    if (midWritePauseMs() > 0 && size > 1) {  // fault injection: half on disk, then a pause
        done = size / 2;
        if (std::fwrite(data, 1, done, m_file) != done || std::fflush(m_file) != 0)
            throw Error(m_path.string() + ": write failed: " + std::strerror(errno));
        pauseMidWriteForTests();
    }
    if (size > done && std::fwrite(data + done, 1, size - done, m_file) != size - done)
        throw Error(m_path.string() + ": write failed: " + std::strerror(errno));
}

void AtomicFile::commit()
{
    if (m_direct) {
        const bool ok = std::fflush(m_file) == 0;
        std::fclose(m_file);
        m_file = nullptr;
        if (!ok) throw Error(m_path.string() + ": write failed: " + std::strerror(errno));
        return;
    }
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
    // The rename itself reaches the disk with the folder's entry.
    const std::filesystem::path dir = m_path.has_parent_path() ? m_path.parent_path() : std::filesystem::path(".");
    if (const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
        (void)::fsync(fd);
        ::close(fd);
    }
}

void writeFileAtomically(const std::filesystem::path& path, const std::string& text)
{
    AtomicFile out(path);
    out.write(text.data(), text.size());
    out.commit();
}

}  // namespace spyglass::core
