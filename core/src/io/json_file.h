#pragma once
// Reading JSON files with messages that name the file and the reason.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace spyglass::core {

// Python's bare NaN / Infinity / -Infinity outside strings replaced by null.
[[nodiscard]] std::string pythonJsonConstantsToNull(const std::string& text);
// Throws Error("<path>: cannot open …" / "<path>: not valid JSON: …"). Files that Python's json
// module wrote with NaN / ±Infinity are read with those values as null (the key's default).
[[nodiscard]] nlohmann::json readJsonFile(const std::filesystem::path& path);
// Reads a whole file byte-exact.
[[nodiscard]] std::string readTextFile(const std::filesystem::path& path);

}  // namespace spyglass::core
