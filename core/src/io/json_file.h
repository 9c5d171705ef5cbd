#pragma once
// Reading JSON files with messages that name the file and the reason.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace spyglass::core {

// Throws Error("<path>: cannot open …" / "<path>: not valid JSON: …").
[[nodiscard]] nlohmann::json readJsonFile(const std::filesystem::path& path);
// Reads a whole file byte-exact.
[[nodiscard]] std::string readTextFile(const std::filesystem::path& path);

}  // namespace spyglass::core
