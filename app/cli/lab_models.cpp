#include "cli/lab_models.h"

#include "cli/common_options.h"

#include "spyglass/lora_files.h"
#include "spyglass/lora_tags.h"

#include <filesystem>

namespace spyglass::cli {

LabModels::LabModels(std::string modelPath, std::string device, core::DiffusionLoadOptions base,
                     std::optional<std::string> loraDir)
    : m_modelPath(std::move(modelPath)),
      m_device(std::move(device)),
      m_base(std::move(base)),
      m_loraDir(std::move(loraDir))
{
}

void LabModels::checkChunks(const std::vector<std::string>& chunks) const
{
    for (const std::string& piece : chunks) {
        const core::LoraTags tags = core::extractLoraTags(piece);
        if (!tags.loras.empty() && !m_loraDir)
            throw UsageError("the chunk '" + piece +
                             "' has <lora:…> tags: give --lora-dir DIR where NAME.safetensors are");
        for (const auto& t : tags.loras)
            for (const auto& l : m_base.loras)
                if (std::filesystem::path(l.path).filename() == t.name + ".safetensors")
                    throw UsageError("the LoRA '" + t.name +
                                     "' is both a chunk and in --lora: a chunk's LoRA is merged only in the runs with "
                                     "that chunk, so leave it out of --lora");
    }
}

core::DiffusionModel& LabModels::forTags(const std::vector<core::LoraTag>& tags)
{
    std::string key;
    for (const auto& t : tags) key += t.name + ":" + std::to_string(t.weight) + ";";
    if (m_model && key == m_tags) return *m_model;
    if (!tags.empty() && !m_loraDir)
        throw UsageError("the prompt has <lora:…> tags: give --lora-dir DIR where NAME.safetensors are");
    core::LoraFiles files;  // NAME.safetensors of --lora-dir
    for (const auto& t : tags) files[t.name] = std::filesystem::path(*m_loraDir) / (t.name + ".safetensors");
    const core::DiffusionLoadOptions load = core::withLoraTags(m_base, tags, files);
    if (!tags.empty()) logProgress("loading the model with " + key, true);
    m_model.reset();  // one model in memory at a time
    m_model = core::DiffusionModel::load(m_modelPath, m_device, load);
    m_tags = key;
    return *m_model;
}

core::LoraModelSource LabModels::source()
{
    return [this](const std::vector<core::LoraTag>& tags) -> core::DiffusionModel& { return forTags(tags); };
}

}  // namespace spyglass::cli
