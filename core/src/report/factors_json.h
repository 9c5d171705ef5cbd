#pragma once
// The factor section of `spyglass.report/1` (docs/report-format.md) on its own: the report's JSON
// and the Remote device's A/B comparison (its joint factors) share it. Thread safety: pure.
#include "spyglass/report.h"

#include <nlohmann/json.hpp>

#include <string>

namespace spyglass::core {

[[nodiscard]] nlohmann::json factorsToJson(const FactorSection& factors);
// Throws Error naming `source` and the field.
[[nodiscard]] FactorSection factorsFromJson(const nlohmann::json& json, const std::string& source);

}  // namespace spyglass::core
