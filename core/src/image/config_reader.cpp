#include "image/config_reader.h"

#include "io/json_file.h"
#include "spyglass/error.h"

namespace spyglass::core {

ConfigReader::ConfigReader(const std::filesystem::path& path) : ConfigReader(readJsonFile(path), path) {}

ConfigReader::ConfigReader(nlohmann::json json, std::filesystem::path path)
    : m_json(std::move(json)), m_path(std::move(path))
{
    if (!m_json.is_object()) fail("is not a JSON object");
}

void ConfigReader::fail(const std::string& reason) const
{
    throw Error(m_path.string() + ": " + reason);
}

bool ConfigReader::has(const std::string& key) const
{
    return m_json.contains(key) && !m_json[key].is_null();
}

int64_t ConfigReader::integer(const std::string& key, int64_t fallback) const
{
    if (!has(key)) return fallback;
    const auto& v = m_json[key];
    if (!v.is_number_integer()) fail("\"" + key + "\" must be an integer");
    const int64_t x = v.get<int64_t>();
    if (x < 0 || x > (int64_t{1} << 31)) fail("\"" + key + "\" = " + std::to_string(x) + " is out of range");
    return x;
}

double ConfigReader::number(const std::string& key, double fallback) const
{
    if (!has(key)) return fallback;
    const auto& v = m_json[key];
    if (!v.is_number()) fail("\"" + key + "\" must be a number");
    return v.get<double>();
}

bool ConfigReader::boolean(const std::string& key, bool fallback) const
{
    if (!has(key)) return fallback;
    const auto& v = m_json[key];
    if (!v.is_boolean()) fail("\"" + key + "\" must be true or false");
    return v.get<bool>();
}

std::string ConfigReader::string(const std::string& key, const std::string& fallback) const
{
    if (!has(key)) return fallback;
    const auto& v = m_json[key];
    if (!v.is_string()) fail("\"" + key + "\" must be a string");
    return v.get<std::string>();
}

std::vector<int64_t> ConfigReader::integers(const std::string& key, size_t count,
                                            const std::vector<int64_t>& fallback) const
{
    if (!has(key)) {
        if (!fallback.empty()) return fallback;
        fail("\"" + key + "\" is missing");
    }
    const auto& v = m_json[key];
    if (v.is_number_integer()) return std::vector<int64_t>(count, integer(key, 0));
    if (!v.is_array() || v.empty()) fail("\"" + key + "\" must be an integer or a non-empty list of integers");
    std::vector<int64_t> out;
    for (const auto& x : v) {
        if (!x.is_number_integer() || x.get<int64_t>() <= 0 || x.get<int64_t>() > (int64_t{1} << 20))
            fail("\"" + key + "\" must hold positive integers");
        out.push_back(x.get<int64_t>());
    }
    if (count != 0 && out.size() != count)
        fail("\"" + key + "\" has " + std::to_string(out.size()) + " entries, expected " + std::to_string(count));
    return out;
}

std::vector<std::string> ConfigReader::strings(const std::string& key) const
{
    if (!has(key)) fail("\"" + key + "\" is missing");
    const auto& v = m_json[key];
    if (!v.is_array()) fail("\"" + key + "\" must be a list of strings");
    std::vector<std::string> out;
    for (const auto& x : v) {
        if (!x.is_string()) fail("\"" + key + "\" must be a list of strings");
        out.push_back(x.get<std::string>());
    }
    return out;
}

std::vector<double> ConfigReader::numbers(const std::string& key) const
{
    if (!has(key)) fail("\"" + key + "\" is missing");
    const auto& v = m_json[key];
    if (!v.is_array()) fail("\"" + key + "\" must be a list of numbers");
    std::vector<double> out;
    for (const auto& x : v) {
        if (!x.is_number()) fail("\"" + key + "\" must be a list of numbers");
        out.push_back(x.get<double>());
    }
    return out;
}

}  // namespace spyglass::core
