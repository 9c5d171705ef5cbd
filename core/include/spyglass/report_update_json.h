#pragma once
// One analysis stage (ReportUpdate) as JSON: the "update" frames with which `spyglass-cli serve`
// streams a remote analysis to the app stage by stage, as a local run does
// (docs/serve-protocol.md). Each stage is {"stage": "started" | "token" | "saliency_row" |
// "lens_column" | "factors" | "projection", "section"?: i, "position"?: p, "report": fragment},
// the fragment being a spyglass.report/1 document holding just what the stage adds (so the report
// format's reader checks it).
//
//   std::string j = reportUpdateToJson(update);            // server
//   ReportUpdate same = reportUpdateFromJson(j, "gpu");    // client
//
// Thread safety: pure functions.
#include "spyglass/report_update.h"

#include <string>

namespace spyglass::core {

[[nodiscard]] std::string reportUpdateToJson(const ReportUpdate& update);
// Throws Error naming `source` and what is wrong.
[[nodiscard]] ReportUpdate reportUpdateFromJson(const std::string& json, const std::string& source);

}  // namespace spyglass::core
