#include "cli/serve_params.h"

#include "cli/arg_parser.h"

#include "spyglass/runtime.h"

#include <algorithm>
#include <fstream>
#include <iterator>

namespace spyglass::cli {

std::string textParam(const nlohmann::json& params, const char* method, const char* key, const std::string& fallback,
                      bool required)
{
    const auto it = params.find(key);
    if (it == params.end()) {
        if (required) throw UsageError(std::string("\"") + method + "\" needs params." + key);
        return fallback;
    }
    if (!it->is_string()) throw UsageError(std::string("\"") + method + "\": params." + key + " must be a text");
    return it->get<std::string>();
}

bool flagParam(const nlohmann::json& params, const char* method, const char* key)
{
    const auto it = params.find(key);
    if (it == params.end()) return false;
    if (!it->is_boolean())
        throw UsageError(std::string("\"") + method + "\": params." + key + " must be true or false");
    return it->get<bool>();
}

std::string deviceParam(const nlohmann::json& params, const char* method)
{
    const std::string device = textParam(params, method, "device", "auto", false);
    if (device == "auto") return core::cudaAvailable() ? "cuda" : "cpu";
    return device;
}

void applyThreadsParam(const nlohmann::json& params, const char* method)
{
    const auto threads = params.find("threads");
    if (threads == params.end()) return;
    if (!threads->is_number_integer() || threads->get<int64_t>() < 1 || threads->get<int64_t>() > 1024)
        throw UsageError(std::string("\"") + method + "\": params.threads must be a number from 1 to 1024");
    core::setThreadCount(threads->get<int>());
}

std::vector<std::pair<std::string, std::string>> filesUnder(const std::filesystem::path& dir, const std::string& prefix)
{
    std::vector<std::pair<std::string, std::string>> out;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file()) continue;
        std::ifstream in(it->path(), std::ios::binary);
        out.emplace_back(prefix + std::filesystem::relative(it->path(), dir).string(),
                         std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace spyglass::cli
