#include "cli/serve_analyzer.h"

#include "cli/arg_parser.h"
#include "cli/serve_params.h"

#include "spyglass/analysis.h"
#include "spyglass/analysis_options_json.h"
#include "spyglass/intervention.h"
#include "spyglass/report_json.h"

namespace spyglass::cli {

namespace {

core::AnalysisOptions optionsParam(const nlohmann::json& params, const char* method, const std::string& source)
{
    const auto options = params.find("options");
    if (options != params.end() && !options->is_object())
        throw UsageError(std::string("\"") + method + "\": params.options must be an object");
    return core::analysisOptionsFromJson(options == params.end() ? "{}" : options->dump(), source);
}

}  // namespace

core::LanguageModel& ServeAnalyzer::model(const nlohmann::json& params, const char* method,
                                          const core::ProgressCallback& progress)
{
    if (!params.is_object()) throw UsageError(std::string("\"") + method + "\" needs params {\"model\": …}");
    const std::string modelPath = textParam(params, method, "model", "", true);
    const std::string device = deviceParam(params, method);
    applyThreadsParam(params, method);
    const std::string key = modelPath + '\n' + device;
    if (!m_model || key != m_key) {
        m_model.reset();  // the previous model's memory goes back first
        m_key.clear();
        if (progress) progress({"loading model", 0, 0});
        m_model = core::LanguageModel::load(modelPath, {.device = device, .tokenizer = {}});
        m_key = key;
    }
    return *m_model;
}

ServedReport ServeAnalyzer::analyze(const nlohmann::json& params, const std::string& source,
                                    const core::ProgressCallback& progress)
{
    const std::string prompt = textParam(params, "analyze", "prompt", "", true);
    const core::AnalysisOptions o = optionsParam(params, "analyze", source);
    core::LanguageModel& lm = model(params, "analyze", progress);
    const core::Report report = core::analyze(lm, prompt, o, progress);
    return {core::reportToJson(report), core::contextLimitNote(report, lm.info(), o.maxNewTokens)};
}

ServedReport ServeAnalyzer::section(const nlohmann::json& params,
                                    const std::vector<std::pair<std::string, std::string>>& payloads,
                                    const std::string& source, const core::ProgressCallback& progress)
{
    const std::string which = textParam(params, "section", "section", "", true);
    if (which != "factors" && which != "projection")
        throw UsageError("\"section\": params.section must be \"factors\" or \"projection\"");
    std::string reportJson;
    for (const auto& [name, bytes] : payloads)
        if (name == "report.json") reportJson = bytes;
    if (const auto report = params.find("report"); reportJson.empty() && report != params.end() && report->is_object())
        reportJson = report->dump();
    if (reportJson.empty())
        throw UsageError("\"section\" needs the report whose section to recompute (payload report.json)");
    const core::Report base = core::reportFromJson(reportJson, source + ": the report");
    const core::AnalysisOptions o = optionsParam(params, "section", source);
    core::LanguageModel& lm = model(params, "section", progress);
    const core::Report again =
        which == "factors" ? core::refactor(lm, base, o, progress) : core::reproject(lm, base, o, progress);
    return {core::reportToJson(again), {}};
}

core::HostTensor ServeAnalyzer::attention(const nlohmann::json& params, const core::ProgressCallback& progress)
{
    const auto ids = params.find("ids");
    const auto position = params.find("position");
    if (ids == params.end() || !ids->is_array() || position == params.end() || !position->is_number_integer())
        throw UsageError("\"attention\" needs params.ids (token ids) and params.position (a number)");
    std::vector<int> tokens;
    for (const auto& id : *ids) {
        if (!id.is_number_integer()) throw UsageError("\"attention\": params.ids must be token ids");
        tokens.push_back(id.get<int>());
    }
    std::vector<std::string> specs;
    if (const auto s = params.find("interventions"); s != params.end()) {
        if (!s->is_array()) throw UsageError("\"attention\": params.interventions must be a list of specs");
        for (const auto& spec : *s) {
            if (!spec.is_string()) throw UsageError("\"attention\": params.interventions must be a list of specs");
            specs.push_back(spec.get<std::string>());
        }
    }
    core::LanguageModel& lm = model(params, "attention", progress);
    lm.setInterventions(core::parseInterventions(specs));  // this request's only
    try {
        core::HostTensor weights = lm.attentionRow(tokens, position->get<int>());
        lm.setInterventions({});
        return weights;
    } catch (...) {
        lm.setInterventions({});
        throw;
    }
}

}  // namespace spyglass::cli
