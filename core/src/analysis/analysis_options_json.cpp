#include "spyglass/analysis_options_json.h"

#include "io/json_members.h"

#include "spyglass/error.h"
#include "spyglass/names.h"

#include <nlohmann/json.hpp>

namespace spyglass::core {

using nlohmann::json;

std::string analysisOptionsToJson(const AnalysisOptions& o)
{
    const auto optional = [](const auto& v) { return v ? json(*v) : json(nullptr); };
    const json j{{"max_new_tokens", o.maxNewTokens},
                 {"temperature", o.temperature},
                 {"sample_top_k", o.sampleTopK},
                 {"sample_top_p", o.sampleTopP},
                 {"saliency_methods", namesOf(o.saliencyMethods)},
                 {"saliency_target", name(o.saliencyTarget)},
                 {"contrast_with", optional(o.contrastWith)},
                 {"continuation", o.continuation},
                 {"interventions", o.interventionSpecs},
                 {"integrated_gradients_steps", o.integratedGradientSteps},
                 {"occlusion_replace", o.occlusionReplace},
                 {"occlusion_token", optional(o.occlusionToken)},
                 {"lens", o.lens},
                 {"lens_mode", name(o.lensMode)},
                 {"lens_top_k", o.lensTopK},
                 {"factors", o.factors},
                 {"factor_count", optional(o.factorCount)},
                 {"factor_layer_begin", o.factorLayerBegin},
                 {"factor_layer_end", o.factorLayerEnd},
                 {"factor_max_iterations", o.factorMaxIterations},
                 {"factor_stability_seeds", o.factorStabilitySeeds},
                 {"projection", o.projection},
                 {"projection_method", name(o.projectionMethod)},
                 {"projection_source", name(o.projectionSource)},
                 {"projection_layer", o.projectionLayer},
                 {"cluster_count", optional(o.clusterCount)},
                 {"cluster_method", name(o.clusterMethod)},
                 {"seed", o.seed}};
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

AnalysisOptions analysisOptionsFromJson(const std::string& text, const std::string& source)
{
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw Error(source + ": options must be a JSON object");
    const JsonMembers m(j, source + ": options");
    AnalysisOptions o;
    m.read("max_new_tokens", o.maxNewTokens);
    m.read("temperature", o.temperature);
    m.read("sample_top_k", o.sampleTopK);
    m.read("sample_top_p", o.sampleTopP);
    m.readNames("saliency_methods", o.saliencyMethods);
    m.readName("saliency_target", o.saliencyTarget);
    m.readOptional("contrast_with", o.contrastWith);
    m.readList("continuation", o.continuation);
    m.readList("interventions", o.interventionSpecs);
    m.read("integrated_gradients_steps", o.integratedGradientSteps);
    m.read("occlusion_replace", o.occlusionReplace);
    m.readOptional("occlusion_token", o.occlusionToken);
    m.read("lens", o.lens);
    m.readName("lens_mode", o.lensMode);
    m.read("lens_top_k", o.lensTopK);
    m.read("factors", o.factors);
    m.readOptional("factor_count", o.factorCount);
    m.read("factor_layer_begin", o.factorLayerBegin);
    m.read("factor_layer_end", o.factorLayerEnd);
    m.read("factor_max_iterations", o.factorMaxIterations);
    m.read("factor_stability_seeds", o.factorStabilitySeeds);
    m.read("projection", o.projection);
    m.readName("projection_method", o.projectionMethod);
    m.readName("projection_source", o.projectionSource);
    m.read("projection_layer", o.projectionLayer);
    m.readOptional("cluster_count", o.clusterCount);
    m.readName("cluster_method", o.clusterMethod);
    m.read("seed", o.seed);
    return o;
}

}  // namespace spyglass::core
