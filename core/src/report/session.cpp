#include "spyglass/session.h"

#include "io/json_file.h"
#include "spyglass/atomic_write.h"
#include "spyglass/error.h"
#include "spyglass/report_json.h"
#include "spyglass/tokenizer.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace spyglass::core {

namespace {

using json = nlohmann::json;

json objectFrom(const std::string& text, const char* what)
{
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        throw Error(std::string("the session's ") + what + " are not a JSON object");
    return j;
}

std::string stringField(const json& root, const char* key)
{
    if (!root.contains(key)) return {};
    if (!root.at(key).is_string()) throw Error(std::string("field \"") + key + "\" is not a string");
    return root.at(key).get<std::string>();
}

Session parseSession(const std::string& text, const std::string& source)
{
    const json root = json::parse(text, nullptr, false);
    if (root.is_discarded()) throw Error(source + ": not valid JSON");
    if (!root.is_object()) throw Error(source + ": not a JSON object");
    const std::string schema =
        root.contains("schema") && root["schema"].is_string() ? root["schema"].get<std::string>() : "";
    if (schema != kSessionSchema)
        throw Error(source + ": not a Spyglass session (schema '" + sanitizeUtf8(schema) + "', expected " +
                    kSessionSchema + ")");
    Session s;
    try {
        s.prompt = stringField(root, "prompt");
        if (root.contains("model")) {
            if (!root["model"].is_object()) throw Error("field \"model\" is not an object");
            s.modelPath = stringField(root["model"], "path");
        }
        for (const auto& [key, out] : {std::pair{"settings", &s.settingsJson}, std::pair{"view", &s.viewJson}}) {
            if (!root.contains(key)) continue;
            if (!root[key].is_object()) throw Error(std::string("field \"") + key + "\" is not an object");
            *out = root[key].dump(-1, ' ', false, json::error_handler_t::replace);
        }
    } catch (const Error& e) {
        throw e.withContext(source);
    }
    if (root.contains("report"))
        s.report = std::make_shared<const Report>(reportFromJson(root["report"].dump(), source));
    return s;
}

}  // namespace

std::string sessionToJson(const Session& session)
{
    json root;
    root["schema"] = kSessionSchema;
    root["prompt"] = session.prompt;
    root["model"] = {{"path", session.modelPath}};
    if (session.report) root["model"]["sha256"] = session.report->model.sha256;
    root["settings"] = objectFrom(session.settingsJson, "settings");
    root["view"] = objectFrom(session.viewJson, "view state");
    std::string text = root.dump(-1, ' ', false, json::error_handler_t::replace);
    if (session.report) {
        // The report is spliced in as its writer made it (no second parse of the largest part).
        text.pop_back();
        text += ",\"report\":" + reportToJson(*session.report) + "}";
    }
    return text;
}

Session sessionFromJson(const std::string& text, const std::string& source)
{
    try {
        return parseSession(text, source);
    } catch (const json::exception& e) {
        throw Error(source + ": unexpected structure: " + e.what());
    }
}

void writeSession(const Session& session, const std::filesystem::path& path)
{
    writeFileAtomically(path, sessionToJson(session));
}

Session readSession(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(path.string() + ": cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw Error(path.string() + ": cannot read");
    return sessionFromJson(text.str(), path.string());
}

}  // namespace spyglass::core
