#pragma once
// ServeDiffuser — the typed "diffuse" method of `spyglass-cli serve` (docs/serve-protocol.md): the
// app's Remote (SSH) device sends an image run's options and load options (LoRAs, single-file
// parts) as JSON and gets the whole result back (spyglass/diffusion_remote.h). The pipeline stays
// loaded between requests with the same model, device and load options.
// Thread safety: one caller at a time (serve's request loop).
#include "spyglass/diffusion.h"
#include "spyglass/progress.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace spyglass::cli {

class ServeDiffuser {
public:
    // params: {"model": path, "options": {…}, "load"?: {…}, "device"?: "auto" | "cpu" | "cuda[:N]",
    // "threads"?: n}. Throws UsageError for malformed params, else as DiffusionModel::generate().
    core::DiffusionResult run(const nlohmann::json& params, const std::string& source,
                              const core::ProgressCallback& progress, const core::PreviewCallback& preview);

private:
    std::unique_ptr<core::DiffusionModel> m_model;
    std::string m_key;  // model path, device and load options of m_model
};

}  // namespace spyglass::cli
