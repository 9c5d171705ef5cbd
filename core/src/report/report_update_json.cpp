#include "spyglass/report_update_json.h"

#include "report/overloaded.h"
#include "spyglass/error.h"
#include "spyglass/report_json.h"
#include "spyglass/tokenizer.h"

#include <nlohmann/json.hpp>

#include <limits>

namespace spyglass::core {

namespace {

using nlohmann::json;

json stage(const char* name, const Report& fragment)
{
    return {{"stage", name}, {"report", json::parse(reportToJson(fragment))}};
}

// A non-negative integer member of `j`.
int64_t index(const json& j, const char* key, const std::string& source)
{
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() < 0 ||
        it->get<int64_t>() > std::numeric_limits<int>::max())
        throw Error(source + ": the update's " + key + " must be a non-negative integer");
    return it->get<int64_t>();
}

}  // namespace

std::string reportUpdateToJson(const ReportUpdate& update)
{
    Report fragment;
    const json j = std::visit(
        Overloaded{[&](const AnalysisStarted& u) {
                       fragment.model = u.model;
                       fragment.saliency = u.saliency;
                       fragment.tokens = u.promptTokens;
                       return stage("started", fragment);
                   },
                   [&](const TokenGenerated& u) {
                       fragment.tokens = {u.token};
                       return stage("token", fragment);
                   },
                   [&](const SaliencyRowReady& u) {
                       fragment.saliency = {SaliencySection{SaliencyMethod::GradXInput, SaliencyTarget::Prob, {u.row}}};
                       json out = stage("saliency_row", fragment);
                       out["section"] = u.section;
                       return out;
                   },
                   [&](const LensColumnReady& u) {
                       LensSection lens{u.mode, u.layers, u.topK, {}, 0.0};
                       for (const LensCell& cell : u.cells) lens.cells.push_back({cell});
                       fragment.lens = std::move(lens);
                       fragment.tokenTexts = u.tokenTexts;
                       json out = stage("lens_column", fragment);
                       out["position"] = u.position;
                       return out;
                   },
                   [&](const FactorsReady& u) {
                       fragment.factors = u.factors;
                       fragment.tokenTexts = u.tokenTexts;
                       return stage("factors", fragment);
                   },
                   [&](const ProjectionReady& u) {
                       fragment.projection = u.projection;
                       return stage("projection", fragment);
                   }},
        update);
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

ReportUpdate reportUpdateFromJson(const std::string& text, const std::string& source)
{
    const json j = json::parse(text, nullptr, false);
    if (!j.is_object()) throw Error(source + ": the update is not a JSON object");
    const auto name = j.find("stage");
    const auto fragment = j.find("report");
    if (name == j.end() || !name->is_string() || fragment == j.end() || !fragment->is_object())
        throw Error(source + ": the update needs a \"stage\" and a \"report\"");
    const std::string stageName = name->get<std::string>();
    Report r = reportFromJson(fragment->dump(), source + ": the " + stageName + " update");
    if (stageName == "started") return AnalysisStarted{std::move(r.model), std::move(r.saliency), std::move(r.tokens)};
    if (stageName == "token") {
        if (r.tokens.size() != 1) throw Error(source + ": a token update must hold one token");
        return TokenGenerated{std::move(r.tokens.front())};
    }
    if (stageName == "saliency_row") {
        if (r.saliency.size() != 1 || r.saliency.front().rows.size() != 1)
            throw Error(source + ": a saliency-row update must hold one row");
        return SaliencyRowReady{static_cast<std::size_t>(index(j, "section", source)),
                                std::move(r.saliency.front().rows.front())};
    }
    if (stageName == "lens_column") {
        if (!r.lens) throw Error(source + ": a lens-column update must hold a lens");
        LensColumnReady u;
        u.position = static_cast<int>(index(j, "position", source));
        u.mode = r.lens->mode;
        u.topK = r.lens->topK;
        u.layers = std::move(r.lens->layers);
        for (auto& layer : r.lens->cells) {
            if (layer.size() != 1) throw Error(source + ": a lens-column update must hold one cell per layer");
            u.cells.push_back(std::move(layer.front()));
        }
        u.tokenTexts = std::move(r.tokenTexts);
        return u;
    }
    if (stageName == "factors") {
        if (!r.factors) throw Error(source + ": a factors update must hold factors");
        return FactorsReady{std::move(*r.factors), std::move(r.tokenTexts)};
    }
    if (stageName == "projection") {
        if (!r.projection) throw Error(source + ": a projection update must hold a projection");
        return ProjectionReady{std::move(*r.projection)};
    }
    throw Error(source + ": unknown update stage '" + sanitizeUtf8(stageName) + "'");
}

}  // namespace spyglass::core
