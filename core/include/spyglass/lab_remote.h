#pragma once
// The prompt lab across `spyglass-cli serve` (docs/serve-protocol.md, method "lab"): LabOptions as
// JSON, and the lab's answer — its report and the images the app shows (first seed) — as a frame's
// header member "lab" plus RGB payloads "lab/full", "lab/base", "lab/shortened", "lab/without/N".
//
//   nlohmann::json header;  std::vector<std::pair<std::string, std::string>> payloads;
//   encodeLabAnswer(report, images, header, payloads);                 // server
//   auto [report2, images2] = decodeLabAnswer(frame, "gpu");           // client: equal
//
// Readers keep defaults for missing members and ignore unknown ones; a member of the wrong type, a
// payload missing or of the wrong size throws Error naming `source`. Thread safety: pure functions.
#include "spyglass/prompt_lab.h"
#include "spyglass/serve_frames.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace spyglass::core {

[[nodiscard]] nlohmann::json labOptionsToJson(const LabOptions& options);
[[nodiscard]] LabOptions labOptionsFromJson(const nlohmann::json& json, const std::string& source);
[[nodiscard]] nlohmann::json labReportToJson(const LabReport& report);
[[nodiscard]] LabReport labReportFromJson(const nlohmann::json& json, const std::string& source);

void encodeLabAnswer(const LabReport& report, const LabImages& images, nlohmann::json& header,
                     std::vector<std::pair<std::string, std::string>>& payloads);
[[nodiscard]] std::pair<LabReport, LabImages> decodeLabAnswer(const Frame& frame, const std::string& source);

}  // namespace spyglass::core
