#include "cli/serve_lab.h"

#include "cli/arg_parser.h"
#include "cli/serve_params.h"

#include "spyglass/diffusion_remote.h"
#include "spyglass/error.h"
#include "spyglass/lab_remote.h"
#include "spyglass/lora_tags.h"

#include <unistd.h>

#include <filesystem>

namespace spyglass::cli {

namespace {

namespace fs = std::filesystem;

// Size and modification time: a LoRA rewritten on disk invalidates the cached runs.
std::string diskStamp(const fs::path& file)
{
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    const auto time = fs::last_write_time(file, ec);
    return ec ? std::string("?") : std::to_string(size) + "@" + std::to_string(time.time_since_epoch().count());
}

}  // namespace

ServedLab ServeLab::run(const nlohmann::json& params, const std::vector<std::pair<std::string, std::string>>& payloads,
                        const std::string& source, const core::ProgressCallback& progress)
{
    if (!params.is_object()) throw UsageError("\"lab\" needs params {\"model\": …, \"options\": …}");
    const std::string modelPath = textParam(params, "lab", "model", "", true);
    const std::string device = deviceParam(params, "lab");
    const auto options = params.find("options");
    if (options == params.end() || !options->is_object())
        throw UsageError("\"lab\" needs params.options (an object with the base prompt and the chunks)");
    const bool exportFiles = flagParam(params, "lab", "export");
    ServedLab out;
    out.options = core::labOptionsFromJson(*options, source);
    core::DiffusionLoadOptions load =
        core::diffusionLoadFromJson(params.value("load", nlohmann::json::object()), source);
    core::LoraFiles files;
    core::resolveLabLoras(out.options, modelPath, load, files);  // this machine's LoRA files
    std::vector<uint8_t> mask;
    for (const auto& [name, bytes] : payloads)
        if (name == "mask") mask.assign(bytes.begin(), bytes.end());
    applyThreadsParam(params, "lab");

    std::string key = modelPath + '\n' + device + '\n' + core::diffusionLoadToJson(load).dump();
    for (const auto& l : load.loras) key += '\n' + diskStamp(l.path);
    for (const auto& [name, file] : files) key += '\n' + name + '=' + file.string() + '@' + diskStamp(file);
    m_modelPath = modelPath;
    m_device = device;
    m_load = load;
    m_files = files;
    m_progress = progress;
    if (!m_lab || key != m_key) {
        m_lab =
            std::make_unique<core::PromptLab>([this](const std::vector<core::LoraTag>& tags) -> core::DiffusionModel& {
                if (!tags.empty() && m_progress) m_progress({"loading the model with the chunk's LoRA", 0, 0});
                return m_diffuser.model(m_modelPath, m_device, core::withLoraTags(m_load, tags, m_files), m_progress);
            });
        m_key = key;
    }
    out.report = m_lab->experiment(out.options, mask, progress);
    out.images = m_lab->images(out.options, out.report);
    if (exportFiles) {
        char pattern[] = "/tmp/spyglass-lab-XXXXXX";
        const char* dir = ::mkdtemp(pattern);
        if (!dir) throw core::Error("lab: cannot create a scratch folder for the export");
        std::error_code ec;
        try {
            core::writeLabReport(*m_lab, out.options, out.report, mask, dir);
        } catch (...) {
            fs::remove_all(dir, ec);
            throw;
        }
        out.exported = filesUnder(dir, "export/");
        fs::remove_all(dir, ec);
    }
    return out;
}

}  // namespace spyglass::cli
