#pragma once
// ServeDiffuser — the typed "diffuse" method of `spyglass-cli serve` (docs/serve-protocol.md): the
// app's Remote (SSH) device sends an image run's options and load options (LoRAs, single-file
// parts) as JSON and gets the whole result back (spyglass/diffusion_remote.h). A1111 LoRA tags in
// the prompt are resolved here, against the server's files (spyglass/lora_files.h). The pipeline
// stays loaded between requests with the same model, device and load options; the prompt lab
// (ServeLab) loads through the same cache, so one image model is in memory at a time.
// Thread safety: one caller at a time (serve's request loop).
#include "cli/cached_model.h"

#include "spyglass/diffusion.h"
#include "spyglass/progress.h"

#include <nlohmann/json.hpp>

#include <string>

namespace spyglass::cli {

class ServeDiffuser {
public:
    // params: {"model": path, "options": {…}, "load"?: {…}, "device"?: "auto" | "cpu" | "cuda[:N]",
    // "threads"?: n}. Throws UsageError for malformed params, else as DiffusionModel::generate().
    core::DiffusionResult run(const nlohmann::json& params, const std::string& source,
                              const core::ProgressCallback& progress, const core::PreviewCallback& preview);
    // The kept pipeline for these (loaded when they changed).
    core::DiffusionModel& model(const std::string& path, const std::string& device,
                                const core::DiffusionLoadOptions& load, const core::ProgressCallback& progress);

private:
    CachedModel<core::DiffusionModel> m_model;  // by model path, device and load options
};

}  // namespace spyglass::cli
