#pragma once
// Session files (.spyglass, JSON "spyglass.session/1"): the prompt, the model path and its sha256,
// every setting, the whole report and the view state, so that reopening shows the same views
// without recomputing (docs/report-format.md).
//
//   Session s{.prompt = "1, 2, 3,", .modelPath = "models/gpt2", .report = report};
//   writeSession(s, "analysis.spyglass");          // atomic; throws Error naming the file
//   Session again = readSession("analysis.spyglass");
//
// Thread safety: value types and free functions; a Session holds its report by shared pointer to
// const, so a copy can be written on another thread while the app keeps showing it.
#include "spyglass/report.h"

#include <filesystem>
#include <memory>
#include <string>

namespace spyglass::core {

inline constexpr const char* kSessionSchema = "spyglass.session/1";

struct Session {
    std::string prompt;
    std::string modelPath;
    std::string settingsJson = "{}";       // the app's settings (a JSON object)
    std::string viewJson = "{}";           // tab, selected position, … (a JSON object)
    std::shared_ptr<const Report> report;  // null: a session saved before any run
};

// Text of the session file (compact JSON).
[[nodiscard]] std::string sessionToJson(const Session& session);
// Throws Error naming `source` and the reason (not JSON, another schema, a bad report, …).
[[nodiscard]] Session sessionFromJson(const std::string& text, const std::string& source);

// Atomic (core::writeFileAtomically): a kill mid-write leaves the previous file as it was.
void writeSession(const Session& session, const std::filesystem::path& path);
[[nodiscard]] Session readSession(const std::filesystem::path& path);

}  // namespace spyglass::core
