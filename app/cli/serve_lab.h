#pragma once
// ServeLab — the typed "lab" method of `spyglass-cli serve` (docs/serve-protocol.md): the app's
// prompt lab on the Remote (SSH) device. The lab's cached runs stay on the server between requests
// (a new region re-scores without generating again, as on this computer) while the model, device,
// load options and LoRA files are the same; A1111 LoRA tags in the base and the chunks are resolved
// against the server's files. Images load through ServeDiffuser's cache (one pipeline in memory).
// Thread safety: one caller at a time (serve's request loop).
#include "cli/serve_diffuser.h"

#include "spyglass/lora_files.h"
#include "spyglass/progress.h"
#include "spyglass/prompt_lab.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace spyglass::cli {

struct ServedLab {
    core::LabOptions options;  // as run: the base's LoRA tags taken out
    core::LabReport report;
    core::LabImages images;
    std::vector<std::pair<std::string, std::string>> exported;  // with "export": the report's files
};

class ServeLab {
public:
    explicit ServeLab(ServeDiffuser& diffuser) : m_diffuser(diffuser) {}
    // params: {"model": path, "options": {…} (spyglass/lab_remote.h), "load"?: {…}, "export"?: bool,
    // "device"?, "threads"?}; the region as payload "mask" (width·height bytes, 1 inside; none: the
    // whole image). Throws UsageError for malformed params, else as PromptLab.
    ServedLab run(const nlohmann::json& params, const std::vector<std::pair<std::string, std::string>>& payloads,
                  const std::string& source, const core::ProgressCallback& progress);

private:
    ServeDiffuser& m_diffuser;
    std::unique_ptr<core::PromptLab> m_lab;
    std::string m_key;  // what m_lab's runs hold for
    // The current request's (what the lab's model source loads).
    std::string m_modelPath, m_device;
    core::DiffusionLoadOptions m_load;
    core::LoraFiles m_files;
    core::ProgressCallback m_progress;
};

}  // namespace spyglass::cli
