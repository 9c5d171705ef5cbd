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

std::string pythonJsonConstantsToNull(const std::string& text)
{
    std::string out;
    out.reserve(text.size());
    bool inString = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            out += c;
            if (c == '\\' && i + 1 < text.size()) {
                out += text[++i];
            } else if (c == '"') {
                inString = false;
            }
            continue;
        }
        if (c == '"') inString = true;
        bool replaced = false;
        for (const std::string word : {"-Infinity", "Infinity", "NaN"}) {
            if (text.compare(i, word.size(), word) == 0) {
                out += "null";
                i += word.size() - 1;
                replaced = true;
                break;
            }
        }
        if (!replaced) out += c;
    }
    return out;
}

nlohmann::json readJsonFile(const std::filesystem::path& path)
{
    const std::string text = readTextFile(path);
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        // Python's json module writes NaN and ±Infinity (diffusers' DPMSolverMultistepScheduler
        // saves "lambda_min_clipped": -Infinity): read as null, i.e. the key's default.
        const std::string relaxed = pythonJsonConstantsToNull(text);
        if (relaxed != text) {
            try {
                return nlohmann::json::parse(relaxed);
            } catch (const nlohmann::json::exception&) {
            }
        }
        throw Error(path.string() + ": not valid JSON: " + e.what());
    }
}

}  // namespace spyglass::core
