#pragma once
// ConfigReader — typed access to a diffusers / transformers config.json with defaults, and
// errors that name the file and the key.
// Thread safety: immutable after construction.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace spyglass::core {

class ConfigReader {
public:
    explicit ConfigReader(const std::filesystem::path& path);
    ConfigReader(nlohmann::json json, std::filesystem::path path);

    [[nodiscard]] bool has(const std::string& key) const;  // present and not null
    [[nodiscard]] int64_t integer(const std::string& key, int64_t fallback) const;
    [[nodiscard]] double number(const std::string& key, double fallback) const;
    [[nodiscard]] bool boolean(const std::string& key, bool fallback) const;
    [[nodiscard]] std::string string(const std::string& key, const std::string& fallback) const;
    // An integer list, or one integer repeated `count` times.
    [[nodiscard]] std::vector<int64_t> integers(const std::string& key, size_t count,
                                                const std::vector<int64_t>& fallback = {}) const;
    [[nodiscard]] std::vector<std::string> strings(const std::string& key) const;
    [[nodiscard]] std::vector<double> numbers(const std::string& key) const;
    [[noreturn]] void fail(const std::string& reason) const;
    [[nodiscard]] const nlohmann::json& json() const { return m_json; }
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }

private:
    nlohmann::json m_json;
    std::filesystem::path m_path;
};

}  // namespace spyglass::core
