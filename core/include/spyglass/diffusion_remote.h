#pragma once
// An image run across `spyglass-cli serve` (docs/serve-protocol.md, method "diffuse"): the options
// and load options as JSON, and the whole DiffusionResult — image, embeddings, latents, every
// recorded heat map (so that the app's layer / head / step filters work on a remote result) — as
// a frame's header member plus float32 payloads.
//
//   nlohmann::json header;  std::vector<std::pair<std::string, std::string>> payloads;
//   encodeDiffusionResult(result, header, payloads);     // server
//   DiffusionResult again = decodeDiffusionResult(frame, "gpu");   // client: == result
//
// Readers keep defaults for missing members and ignore unknown ones; a member of the wrong type,
// a payload missing or of the wrong size throws Error naming `source` and what is wrong.
// Thread safety: pure functions.
#include "spyglass/diffusion.h"
#include "spyglass/serve_frames.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace spyglass::core {

[[nodiscard]] nlohmann::json diffusionOptionsToJson(const DiffusionOptions& options);
[[nodiscard]] DiffusionOptions diffusionOptionsFromJson(const nlohmann::json& json, const std::string& source);
[[nodiscard]] nlohmann::json diffusionLoadToJson(const DiffusionLoadOptions& load);
[[nodiscard]] DiffusionLoadOptions diffusionLoadFromJson(const nlohmann::json& json, const std::string& source);

// Sets header["diffusion"] and appends the payloads (names "diffusion/…"). When all of them would
// exceed `budget` bytes, the per-call maps are left out (header["diffusion"]["call_maps_left_out"]
// says how many bytes): the decoded result then has no callMaps, and per-step filters need a
// local run.
void encodeDiffusionResult(const DiffusionResult& result, nlohmann::json& header,
                           std::vector<std::pair<std::string, std::string>>& payloads,
                           size_t budget = FrameReader::kMaxPayloads - (size_t{64} << 20));
[[nodiscard]] DiffusionResult decodeDiffusionResult(const Frame& frame, const std::string& source);

}  // namespace spyglass::core
