#include "cli/serve_analyzer.h"

#include "cli/arg_parser.h"
#include "cli/serve_params.h"

#include "spyglass/analysis.h"
#include "spyglass/analysis_options_json.h"
#include "spyglass/report_json.h"

namespace spyglass::cli {

ServedReport ServeAnalyzer::run(const nlohmann::json& params, const std::string& source,
                                const core::ProgressCallback& progress)
{
    if (!params.is_object()) throw UsageError("\"analyze\" needs params {\"model\": …, \"prompt\": …}");
    const std::string modelPath = textParam(params, "analyze", "model", "", true);
    const std::string prompt = textParam(params, "analyze", "prompt", "", true);
    const std::string device = deviceParam(params, "analyze");
    const auto options = params.find("options");
    if (options != params.end() && !options->is_object())
        throw UsageError("\"analyze\": params.options must be an object");
    const core::AnalysisOptions o =
        core::analysisOptionsFromJson(options == params.end() ? "{}" : options->dump(), source);
    applyThreadsParam(params, "analyze");

    const std::string key = modelPath + '\n' + device;
    if (!m_model || key != m_key) {
        m_model.reset();  // the previous model's memory goes back first
        m_key.clear();
        if (progress) progress({"loading model", 0, 0});
        m_model = core::LanguageModel::load(modelPath, {.device = device, .tokenizer = {}});
        m_key = key;
    }
    const core::Report report = core::analyze(*m_model, prompt, o, progress);
    return {core::reportToJson(report), core::contextLimitNote(report, m_model->info(), o.maxNewTokens)};
}

}  // namespace spyglass::cli
