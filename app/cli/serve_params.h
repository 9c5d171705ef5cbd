#pragma once
// The params of serve's typed methods ("analyze", "diffuse", …): each reader throws UsageError
// naming the method and the member. And the files a request's answer carries.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace spyglass::cli {

// params[key] as text; `fallback` when missing and not required.
[[nodiscard]] std::string textParam(const nlohmann::json& params, const char* method, const char* key,
                                    const std::string& fallback, bool required);
// params.device: "auto" (the default: CUDA when this machine has it, else the CPU), "cpu", "cuda[:N]".
[[nodiscard]] std::string deviceParam(const nlohmann::json& params, const char* method);
// params[key] when given (true or false); false when missing.
[[nodiscard]] bool flagParam(const nlohmann::json& params, const char* method, const char* key);
// params.threads when given (1 … 1024): sets the engine's thread count.
void applyThreadsParam(const nlohmann::json& params, const char* method);
// Every regular file under `dir` as (prefix + relative path, bytes), sorted by name.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> filesUnder(const std::filesystem::path& dir,
                                                                          const std::string& prefix = "");

}  // namespace spyglass::cli
