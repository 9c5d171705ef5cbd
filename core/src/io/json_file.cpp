#include "io/json_file.h"

#include "spyglass/error.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace spyglass::core {

std::string readTextFile(const std::filesystem::path& path)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw Error(path.string() + ": is a directory, expected a file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path.string() + ": cannot open: " + std::strerror(errno));
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) throw Error(path.string() + ": read failed");
    return buffer.str();
}

nlohmann::json readJsonFile(const std::filesystem::path& path)
{
    const std::string text = readTextFile(path);
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Error(path.string() + ": not valid JSON: " + e.what());
    }
}

}  // namespace spyglass::core
