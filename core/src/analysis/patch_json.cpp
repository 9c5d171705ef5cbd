#include "spyglass/patching.h"

#include "spyglass/error.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace spyglass::core {

std::string patchSiteName(PatchSite site)
{
    switch (site) {
        case PatchSite::ResidPre:
            return "resid_pre";
        case PatchSite::AttnOut:
            return "attn_out";
        case PatchSite::MlpOut:
            return "mlp_out";
        case PatchSite::Head:
            return "head";
    }
    return "resid_pre";
}

PatchSite parsePatchSite(const std::string& text)
{
    for (PatchSite s : {PatchSite::ResidPre, PatchSite::AttnOut, PatchSite::MlpOut, PatchSite::Head})
        if (patchSiteName(s) == text) return s;
    throw OptionError("site", "unknown site '" + text + "' (resid_pre, attn_out, mlp_out or head)");
}

std::string patchResultJson(const PatchResult& r, const std::string& extraJsonObject)
{
    nlohmann::ordered_json j;
    j["format"] = "spyglass.patch/1";
    j["site"] = patchSiteName(r.site);
    j["layers"] = r.layers;
    j[r.site == PatchSite::Head ? "heads" : "positions"] = r.positions;
    j["metric"] = "logit[answer] - logit[wrong] at the last position";
    j["clean_metric"] = r.cleanMetric;
    j["corrupt_metric"] = r.corruptMetric;
    j["effect"] = r.effect;
    j["patched_metric"] = r.metric;
    j["whole_layer_effect"] = r.wholeLayerEffect;
    const auto extra = nlohmann::ordered_json::parse(extraJsonObject);
    for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
    return j.dump(1);
}

namespace {

// A list of numbers at `key` (null items, written for non-finite values, read as NaN).
std::vector<double> numbers(const nlohmann::json& list, const std::string& where)
{
    if (!list.is_array()) throw Error(where + " must be a list");
    std::vector<double> out;
    out.reserve(list.size());
    for (const auto& v : list) {
        if (v.is_null())
            out.push_back(std::nan(""));
        else if (v.is_number())
            out.push_back(v.get<double>());
        else
            throw Error(where + " has an item that is not a number");
    }
    return out;
}

std::vector<int> indices(const nlohmann::json& j, const char* key, const std::string& source)
{
    std::vector<int> out;
    const auto it = j.find(key);
    if (it == j.end()) return out;
    if (!it->is_array()) throw Error(source + ": " + key + " must be a list");
    for (const auto& v : *it) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > (int64_t{1} << 30))
            throw Error(source + ": " + key + " has an item that is not an index");
        out.push_back(v.get<int>());
    }
    return out;
}

std::vector<std::vector<double>> table(const nlohmann::json& j, const char* key, size_t rows, size_t columns,
                                       const std::string& source)
{
    const auto it = j.find(key);
    if (it == j.end() || !it->is_array() || it->size() != rows)
        throw Error(source + ": " + key + " must be a list of " + std::to_string(rows) + " rows");
    std::vector<std::vector<double>> out;
    for (const auto& row : *it) {
        out.push_back(numbers(row, source + ": " + key + "[]"));
        if (out.back().size() != columns)
            throw Error(source + ": " + key + " has a row of " + std::to_string(out.back().size()) + " values, not " +
                        std::to_string(columns));
    }
    return out;
}

}  // namespace

PatchResult patchResultFromJson(const std::string& text, const std::string& source)
{
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) throw Error(source + ": not a JSON object");
    if (const auto format = j.find("format"); format == j.end() || *format != "spyglass.patch/1")
        throw Error(source + ": format is not spyglass.patch/1");
    if (!j.contains("site") || !j["site"].is_string()) throw Error(source + ": site must be a text");
    PatchResult r;
    try {
        r.site = parsePatchSite(j["site"].get<std::string>());
    } catch (const OptionError& e) {
        throw Error(source + ": " + e.what());
    }
    r.layers = indices(j, "layers", source);
    r.positions = indices(j, r.site == PatchSite::Head ? "heads" : "positions", source);
    for (const auto& [key, out] :
         {std::pair{"clean_metric", &r.cleanMetric}, std::pair{"corrupt_metric", &r.corruptMetric}}) {
        if (!j.contains(key) || !j[key].is_number()) throw Error(source + ": " + key + " must be a number");
        *out = j[key].get<double>();
    }
    r.effect = table(j, "effect", r.layers.size(), r.positions.size(), source);
    r.metric = table(j, "patched_metric", r.layers.size(), r.positions.size(), source);
    const auto whole = j.find("whole_layer_effect");
    r.wholeLayerEffect = whole == j.end() ? std::vector<double>{} : numbers(*whole, source + ": whole_layer_effect");
    if (r.wholeLayerEffect.size() != r.layers.size())
        throw Error(source + ": whole_layer_effect must have one value per layer");
    return r;
}

}  // namespace spyglass::core
