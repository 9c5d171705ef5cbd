#include "pages/analysis_settings.h"

#include <nlohmann/json.hpp>

#include <limits>
#include <sstream>
#include <type_traits>

namespace spyglass::ui {

namespace {

using json = nlohmann::json;

template <typename T>
void read(const json& j, const char* key, T& out)
{
    if (!j.contains(key)) return;
    const json& v = j.at(key);
    if constexpr (std::is_integral_v<T>) {
        if (v.is_number_integer() && v.get<int64_t>() >= std::numeric_limits<T>::min() &&
            v.get<int64_t>() <= std::numeric_limits<T>::max())
            out = v.get<T>();
    } else {
        if (v.is_number()) out = v.get<T>();
    }
}

template <typename E>
void readName(const json& j, const char* key, E& out)
{
    if (j.contains(key) && j.at(key).is_string())
        if (auto value = core::parseName<E>(j.at(key).get<std::string>())) out = *value;
}

}  // namespace

core::AnalysisOptions AnalysisSettings::options() const
{
    core::AnalysisOptions o;
    o.maxNewTokens = maxNewTokens;
    o.temperature = static_cast<float>(temperature);
    o.sampleTopK = sampleTopK;
    o.sampleTopP = static_cast<float>(topP);
    o.seed = static_cast<uint64_t>(seed);
    o.saliencyMethods = saliencyMethods;
    o.saliencyTarget = saliencyTarget;
    o.lensMode = lensMode;
    o.lensTopK = lensTopK;
    if (factorCount > 0) o.factorCount = factorCount;
    o.projectionLayer = projectionLayer;
    std::istringstream specs(interventions);
    for (std::string spec; specs >> spec;) o.interventionSpecs.push_back(spec);
    if (!steerFile.empty() && steerAlpha != 0) {
        std::ostringstream spec;
        spec.imbue(std::locale::classic());
        spec << "steer:" << steerLayer << ':' << steerFile << ':' << steerAlpha;
        o.interventionSpecs.push_back(spec.str());
    }
    return o;
}

std::string AnalysisSettings::toJson() const
{
    json methods = json::array();
    for (core::SaliencyMethod m : saliencyMethods) methods.push_back(core::name(m));
    const json j{{"max_new_tokens", maxNewTokens},
                 {"temperature", temperature},
                 {"sample_top_k", sampleTopK},
                 {"top_p", topP},
                 {"seed", seed},
                 {"saliency", methods},
                 {"saliency_target", core::name(saliencyTarget)},
                 {"lens_mode", core::name(lensMode)},
                 {"lens_top_k", lensTopK},
                 {"factors", factorCount},
                 {"projection_layer", projectionLayer},
                 {"interventions", interventions},
                 {"interventions_off", interventionsOff},
                 {"steer_file", steerFile},
                 {"steer_layer", steerLayer},
                 {"steer_alpha", steerAlpha}};
    return j.dump();
}

AnalysisSettings AnalysisSettings::fromJson(const std::string& text)
{
    AnalysisSettings s;
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return s;
    read(j, "max_new_tokens", s.maxNewTokens);
    read(j, "temperature", s.temperature);
    read(j, "sample_top_k", s.sampleTopK);
    read(j, "top_p", s.topP);
    read(j, "seed", s.seed);
    if (j.contains("saliency")) {
        const json& v = j.at("saliency");
        std::vector<core::SaliencyMethod> methods;
        if (v.is_array()) {
            for (const json& m : v)
                if (m.is_string())
                    if (auto method = core::parseName<core::SaliencyMethod>(m.get<std::string>()))
                        methods.push_back(*method);
        } else if (v.is_string()) {  // sessions before 0.2: one name, or "all four"
            if (auto method = core::parseName<core::SaliencyMethod>(v.get<std::string>()))
                methods.push_back(*method);
            else if (v.get<std::string>() == "all four") {
                const auto all = core::allValues<core::SaliencyMethod>();
                methods.assign(all.begin(), all.end());
            }
        }
        if (!methods.empty()) s.saliencyMethods = methods;
    }
    readName(j, "saliency_target", s.saliencyTarget);
    readName(j, "lens_mode", s.lensMode);
    read(j, "lens_top_k", s.lensTopK);
    read(j, "factors", s.factorCount);
    read(j, "projection_layer", s.projectionLayer);
    if (j.contains("interventions") && j.at("interventions").is_string())
        s.interventions = j.at("interventions").get<std::string>();
    if (j.contains("interventions_off") && j.at("interventions_off").is_string())
        s.interventionsOff = j.at("interventions_off").get<std::string>();
    if (j.contains("steer_file") && j.at("steer_file").is_string()) s.steerFile = j.at("steer_file").get<std::string>();
    read(j, "steer_layer", s.steerLayer);
    read(j, "steer_alpha", s.steerAlpha);
    return s;
}

}  // namespace spyglass::ui
