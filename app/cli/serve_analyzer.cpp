#include "cli/serve_analyzer.h"

#include "cli/arg_parser.h"
#include "cli/serve_params.h"

#include "spyglass/analysis.h"
#include "spyglass/analysis_options_json.h"
#include "spyglass/intervention.h"
#include "spyglass/patching.h"
#include "spyglass/prompt_comparison.h"
#include "spyglass/report_json.h"
#include "spyglass/tokenizer.h"

namespace spyglass::cli {

namespace {

core::AnalysisOptions optionsParam(const nlohmann::json& params, const char* method, const std::string& source)
{
    const auto options = params.find("options");
    if (options != params.end() && !options->is_object())
        throw UsageError(std::string("\"") + method + "\": params.options must be an object");
    return core::analysisOptionsFromJson(options == params.end() ? "{}" : options->dump(), source);
}

std::vector<std::string> specsParam(const nlohmann::json& params, const char* method)
{
    std::vector<std::string> specs;
    const auto s = params.find("interventions");
    if (s == params.end()) return specs;
    const std::string bad = std::string("\"") + method + "\": params.interventions must be a list of specs";
    if (!s->is_array()) throw UsageError(bad);
    for (const auto& spec : *s) {
        if (!spec.is_string()) throw UsageError(bad);
        specs.push_back(spec.get<std::string>());
    }
    return specs;
}

// Runs `body` with `specs` set on the kept model, which has none again afterwards.
template <typename Body>
auto withInterventions(core::LanguageModel& lm, const std::vector<std::string>& specs, Body&& body)
{
    lm.setInterventions(core::parseInterventions(specs));  // this request's only
    try {
        auto out = body();
        lm.setInterventions({});
        return out;
    } catch (...) {
        lm.setInterventions({});
        throw;
    }
}

}  // namespace

core::LanguageModel& ServeAnalyzer::model(const nlohmann::json& params, const char* method,
                                          const core::ProgressCallback& progress)
{
    if (!params.is_object()) throw UsageError(std::string("\"") + method + "\" needs params {\"model\": …}");
    const std::string modelPath = textParam(params, method, "model", "", true);
    const std::string device = deviceParam(params, method);
    applyThreadsParam(params, method);
    return m_model.get(modelPath + '\n' + device, [&] {
        if (progress) progress({"loading model", 0, 0});
        return core::LanguageModel::load(modelPath, {.device = device, .tokenizer = {}});
    });
}

ServedReport ServeAnalyzer::analyze(const nlohmann::json& params, const std::string& source,
                                    const core::ProgressCallback& progress,
                                    const std::function<void(const core::ReportUpdate&)>& stages)
{
    const std::string prompt = textParam(params, "analyze", "prompt", "", true);
    const core::AnalysisOptions o = optionsParam(params, "analyze", source);
    const bool stream = flagParam(params, "analyze", "stream");
    const bool diff = flagParam(params, "analyze", "diff") && !o.interventionSpecs.empty();
    core::LanguageModel& lm = model(params, "analyze", progress);
    core::AnalysisObserver observer;
    if (stages && stream) observer = [&](const core::ReportUpdate& update, const core::Report&) { stages(update); };
    ServedReport served;
    core::Report report;
    if (diff) {
        core::InterventionEffect effect = core::analyzeInterventionEffect(lm, prompt, o, progress, observer);
        served.baselineJson = core::reportToJson(effect.baseline);
        served.forcedJson = core::reportToJson(effect.forced);
        report = std::move(effect.edited);
    } else {
        report = core::analyze(lm, prompt, o, progress, observer);
    }
    served.reportJson = core::reportToJson(report);
    served.notice = core::contextLimitNote(report, lm.info(), o.maxNewTokens);
    if (report.factors) served.loadings = report.factors->loadings;
    return served;
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
    ServedReport served;
    served.reportJson = core::reportToJson(again);
    if (again.factors) served.loadings = again.factors->loadings;
    return served;
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
    const std::vector<std::string> specs = specsParam(params, "attention");
    core::LanguageModel& lm = model(params, "attention", progress);
    return withInterventions(lm, specs, [&] { return lm.attentionRow(tokens, position->get<int>()); });
}

std::string ServeAnalyzer::compare(const nlohmann::json& params, const std::string& source,
                                   const core::ProgressCallback& progress)
{
    const std::string a = textParam(params, "compare", "prompt_a", "", true);
    const std::string b = textParam(params, "compare", "prompt_b", "", true);
    const core::AnalysisOptions o = optionsParam(params, "compare", source);
    core::LanguageModel& lm = model(params, "compare", progress);
    return core::comparisonToWire(core::comparePrompts(lm, a, b, o, progress));
}

std::string ServeAnalyzer::patch(const nlohmann::json& params, const core::ProgressCallback& progress)
{
    const std::string clean = textParam(params, "patch", "clean", "", true);
    const std::string corrupt = textParam(params, "patch", "corrupt", "", true);
    const std::string answer = textParam(params, "patch", "answer", "", true);
    const std::string wrong = textParam(params, "patch", "wrong", "", true);
    core::PatchOptions options;
    options.site = core::parsePatchSite(textParam(params, "patch", "site", "resid_pre", false));
    const std::vector<std::string> specs = specsParam(params, "patch");
    core::LanguageModel& lm = model(params, "patch", progress);
    const std::vector<int> cleanIds = lm.encode(clean), corruptIds = lm.encode(corrupt);
    options.answer = core::tokenArgument(lm, answer, "answer");
    options.wrong = core::tokenArgument(lm, wrong, "wrong");
    const core::PatchResult result = withInterventions(
        lm, specs, [&] { return core::patchActivations(lm, cleanIds, corruptIds, options, progress); });
    const core::Tokenizer* tokenizer = lm.tokenizer();
    auto text = [&](int token) {
        return core::sanitizeUtf8(tokenizer ? tokenizer->tokenText(token) : "#" + std::to_string(token));
    };
    auto texts = [&](const std::vector<int>& tokens) {
        nlohmann::json out = nlohmann::json::array();
        for (int t : tokens) out.push_back(text(t));
        return out;
    };
    const nlohmann::json extra{{"clean_tokens", texts(cleanIds)},
                               {"corrupt_tokens", texts(corruptIds)},
                               {"answer", options.answer},
                               {"wrong", options.wrong},
                               {"answer_text", text(options.answer)},
                               {"wrong_text", text(options.wrong)},
                               {"architecture", lm.info().architecture}};
    return core::patchResultJson(result, extra.dump());
}

}  // namespace spyglass::cli
