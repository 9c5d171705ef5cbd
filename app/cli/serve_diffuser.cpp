#include "cli/serve_diffuser.h"

#include "cli/arg_parser.h"
#include "cli/serve_params.h"

#include "spyglass/diffusion_remote.h"

namespace spyglass::cli {

core::DiffusionResult ServeDiffuser::run(const nlohmann::json& params, const std::string& source,
                                         const core::ProgressCallback& progress, const core::PreviewCallback& preview)
{
    if (!params.is_object()) throw UsageError("\"diffuse\" needs params {\"model\": …, \"options\": …}");
    const std::string modelPath = textParam(params, "diffuse", "model", "", true);
    const std::string device = deviceParam(params, "diffuse");
    const auto options = params.find("options");
    if (options == params.end() || !options->is_object())
        throw UsageError("\"diffuse\" needs params.options (an object with at least the prompt)");
    const core::DiffusionOptions o = core::diffusionOptionsFromJson(*options, source);
    const nlohmann::json loadJson = params.value("load", nlohmann::json::object());
    const core::DiffusionLoadOptions load = core::diffusionLoadFromJson(loadJson, source);
    applyThreadsParam(params, "diffuse");

    const std::string key = modelPath + '\n' + device + '\n' + core::diffusionLoadToJson(load).dump();
    if (!m_model || key != m_key) {
        m_model.reset();  // the previous pipeline's memory goes back first
        m_key.clear();
        if (progress) progress({"loading image model", 0, 0});
        m_model = core::DiffusionModel::load(modelPath, device, load);
        m_key = key;
    }
    return m_model->generate(o, progress, preview);
}

}  // namespace spyglass::cli
