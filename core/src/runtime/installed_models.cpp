#include "spyglass/runtime.h"

#include <system_error>
#include <vector>

namespace spyglass::core {

namespace fs = std::filesystem;

fs::path resolveModelPath(const fs::path& path)
{
    std::error_code ec;
    const std::string text = path.string();
    if (text.empty() || text.find('/') != std::string::npos || text == "." || text == ".." || fs::exists(path, ec))
        return path;
    std::vector<fs::path> roots;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) roots.push_back(exe.parent_path() / "../share/spyglass/models");
#ifdef SPYGLASS_SOURCE_DIR
    roots.push_back(fs::path(SPYGLASS_SOURCE_DIR) / "resources/models");
#endif
    for (const fs::path& root : roots)
        if (fs::exists(root / path, ec)) return (root / path).lexically_normal();
    return path;
}

}  // namespace spyglass::core
