#pragma once
// The `spyglass.report/1` JSON format (docs/report-format.md): writing and reading Report values.
//
//   writeReport(report, "report.json");        // atomic
//   Report again = readReport("report.json");  // Error naming the file and field on bad input
//
// Readers ignore unknown fields; writers never drop documented ones. Thread safety: pure functions.
#include "spyglass/report.h"

#include <filesystem>
#include <string>

namespace spyglass::core {

inline constexpr const char* kReportSchema = "spyglass.report/1";

[[nodiscard]] std::string reportToJson(const Report& report);
[[nodiscard]] Report reportFromJson(const std::string& json, const std::string& source = "report");
void writeReport(const Report& report, const std::filesystem::path& path);
// Also reads the factor loadings from the report's loadings_file (beside it) when that exists.
[[nodiscard]] Report readReport(const std::filesystem::path& path);
// Writes the factor loadings (k × layers·neurons, F32 "loadings") as safetensors.
void writeFactorLoadings(const Report& report, const std::filesystem::path& path);

}  // namespace spyglass::core
