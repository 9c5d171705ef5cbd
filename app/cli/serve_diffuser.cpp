#include "cli/serve_diffuser.h"

#include "cli/arg_parser.h"
#include "cli/serve_params.h"

#include "spyglass/diffusion_remote.h"
#include "spyglass/lora_files.h"

namespace spyglass::cli {

core::DiffusionModel& ServeDiffuser::model(const std::string& path, const std::string& device,
                                           const core::DiffusionLoadOptions& load,
                                           const core::ProgressCallback& progress)
{
    return m_model.get(path + '\n' + device + '\n' + core::diffusionLoadToJson(load).dump(), [&] {
        if (progress) progress({"loading image model", 0, 0});
        return core::DiffusionModel::load(path, device, load);
    });
}

core::DiffusionResult ServeDiffuser::run(const nlohmann::json& params, const std::string& source,
                                         const core::ProgressCallback& progress, const core::PreviewCallback& preview)
{
    if (!params.is_object()) throw UsageError("\"diffuse\" needs params {\"model\": …, \"options\": …}");
    const std::string modelPath = textParam(params, "diffuse", "model", "", true);
    const std::string device = deviceParam(params, "diffuse");
    const auto options = params.find("options");
    if (options == params.end() || !options->is_object())
        throw UsageError("\"diffuse\" needs params.options (an object with at least the prompt)");
    core::DiffusionOptions o = core::diffusionOptionsFromJson(*options, source);
    core::DiffusionLoadOptions load =
        core::diffusionLoadFromJson(params.value("load", nlohmann::json::object()), source);
    core::resolvePromptLoras(o.prompt, modelPath, load);  // <lora:NAME:W>: this machine's files
    applyThreadsParam(params, "diffuse");
    return model(modelPath, device, load, progress).generate(o, progress, preview);
}

}  // namespace spyglass::cli
