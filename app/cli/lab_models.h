#pragma once
// LabModels — the image models a prompt lab needs when its chunks hold A1111 LoRA tags (a chunk of
// tags = "with vs without this LoRA"): the model with the --lora list plus a run's tags
// (NAME.safetensors from --lora-dir), one in memory at a time. Shared by compare-prompts and
// batch --command compare-prompts.
#include "spyglass/diffusion.h"
#include "spyglass/prompt_lab.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spyglass::cli {

class LabModels {
public:
    LabModels(std::string modelPath, std::string device, core::DiffusionLoadOptions base,
              std::optional<std::string> loraDir);
    // Throws UsageError for a chunk with tags but no --lora-dir, or a LoRA both a chunk and a --lora.
    void checkChunks(const std::vector<std::string>& chunks) const;
    [[nodiscard]] core::DiffusionModel& forTags(const std::vector<core::LoraTag>& tags);
    [[nodiscard]] core::LoraModelSource source();

private:
    std::string m_modelPath, m_device;
    core::DiffusionLoadOptions m_base;
    std::optional<std::string> m_loraDir;
    std::unique_ptr<core::DiffusionModel> m_model;
    std::string m_tags = "(none loaded)";
};

}  // namespace spyglass::cli
