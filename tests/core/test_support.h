#pragma once
// Helpers shared by the core tests: fixture paths, temporary folders, tolerant comparison.
#include "spyglass/error.h"
#include "spyglass/host_tensor.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>

namespace spyglass::test {

inline std::filesystem::path fixture(const std::string& relative)
{
    return std::filesystem::path(SPYGLASS_FIXTURES_DIR) / relative;
}

// A fresh folder under the system temp dir, removed when the object dies.
class TempDir {
public:
    TempDir()
    {
        std::random_device rd;
        m_path =
            std::filesystem::temp_directory_path() / ("spyglass-test-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(m_path);
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::permissions(m_path, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
        std::filesystem::remove_all(m_path, ec);
    }
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
    [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

private:
    std::filesystem::path m_path;
};

inline void writeFile(const std::filesystem::path& path, const std::string& bytes)
{
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

// |a − b| ≤ atol + rtol·|b| for every element; reports the worst element.
inline ::testing::AssertionResult allClose(const core::HostTensor& actual, const core::HostTensor& expected,
                                           double atol = 1e-4, double rtol = 1e-4)
{
    if (actual.shape != expected.shape) return ::testing::AssertionFailure() << "shape mismatch";
    double worst = 0;
    size_t worstIndex = 0;
    for (size_t i = 0; i < expected.values.size(); ++i) {
        const double excess = std::abs(double(actual.values[i]) - expected.values[i]) -
                              (atol + rtol * std::abs(double(expected.values[i])));
        if (excess > worst) {
            worst = excess;
            worstIndex = i;
        }
    }
    if (worst > 0)
        return ::testing::AssertionFailure() << "element " << worstIndex << ": " << actual.values[worstIndex] << " vs "
                                             << expected.values[worstIndex] << " (beyond tolerance by " << worst << ")";
    return ::testing::AssertionSuccess();
}

// The message of the core::Error that `f` throws, or "(no error)".
inline std::string errorOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const core::Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace spyglass::test
