// AnalysisOptions as JSON (the Remote device's "analyze" requests): every field survives the round
// trip, missing members keep their defaults, bad members are named.
#include "spyglass/analysis_options_json.h"
#include "spyglass/error.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

using namespace spyglass::core;

namespace {

void expectSame(const AnalysisOptions& a, const AnalysisOptions& b)
{
    EXPECT_EQ(a.maxNewTokens, b.maxNewTokens);
    EXPECT_EQ(a.temperature, b.temperature);
    EXPECT_EQ(a.sampleTopK, b.sampleTopK);
    EXPECT_EQ(a.sampleTopP, b.sampleTopP);
    EXPECT_EQ(a.saliencyMethods, b.saliencyMethods);
    EXPECT_EQ(a.saliencyTarget, b.saliencyTarget);
    EXPECT_EQ(a.contrastWith, b.contrastWith);
    EXPECT_EQ(a.continuation, b.continuation);
    EXPECT_EQ(a.interventionSpecs, b.interventionSpecs);
    EXPECT_EQ(a.integratedGradientSteps, b.integratedGradientSteps);
    EXPECT_EQ(a.occlusionReplace, b.occlusionReplace);
    EXPECT_EQ(a.occlusionToken, b.occlusionToken);
    EXPECT_EQ(a.lens, b.lens);
    EXPECT_EQ(a.lensMode, b.lensMode);
    EXPECT_EQ(a.lensTopK, b.lensTopK);
    EXPECT_EQ(a.factors, b.factors);
    EXPECT_EQ(a.factorCount, b.factorCount);
    EXPECT_EQ(a.factorLayerBegin, b.factorLayerBegin);
    EXPECT_EQ(a.factorLayerEnd, b.factorLayerEnd);
    EXPECT_EQ(a.factorMaxIterations, b.factorMaxIterations);
    EXPECT_EQ(a.factorStabilitySeeds, b.factorStabilitySeeds);
    EXPECT_EQ(a.projection, b.projection);
    EXPECT_EQ(a.projectionMethod, b.projectionMethod);
    EXPECT_EQ(a.projectionSource, b.projectionSource);
    EXPECT_EQ(a.projectionLayer, b.projectionLayer);
    EXPECT_EQ(a.clusterCount, b.clusterCount);
    EXPECT_EQ(a.clusterMethod, b.clusterMethod);
    EXPECT_EQ(a.seed, b.seed);
}

}  // namespace

TEST(AnalysisOptionsJson, EveryFieldRoundTrips)
{
    AnalysisOptions o;  // every field away from its default
    o.maxNewTokens = 17;
    o.temperature = 0.7F;
    o.sampleTopK = 40;
    o.sampleTopP = 0.9F;
    o.saliencyMethods = {SaliencyMethod::Occlusion, SaliencyMethod::IntegratedGradients};
    o.saliencyTarget = SaliencyTarget::Logit;
    o.contrastWith = 262;
    o.continuation = {11, 0, 50256};
    o.interventionSpecs = {"ablate:neuron:1:42", "steer:2:v.safetensors:3.5"};
    o.integratedGradientSteps = 20;
    o.occlusionReplace = true;
    o.occlusionToken = 0;
    o.lens = false;
    o.lensMode = LensMode::Sublayer;
    o.lensTopK = 3;
    o.factors = false;
    o.factorCount = 4;
    o.factorLayerBegin = 1;
    o.factorLayerEnd = 3;
    o.factorMaxIterations = 99;
    o.factorStabilitySeeds = 0;
    o.projection = false;
    o.projectionMethod = ProjectionMethod::Umap;
    o.projectionSource = ProjectionSource::Resid;
    o.projectionLayer = 2;
    o.clusterCount = 5;
    o.clusterMethod = ClusterMethod::Nmf;
    o.seed = 18446744073709551615ULL;
    expectSame(analysisOptionsFromJson(analysisOptionsToJson(o), "t"), o);
    expectSame(analysisOptionsFromJson(analysisOptionsToJson(AnalysisOptions{}), "t"), AnalysisOptions{});
    expectSame(analysisOptionsFromJson("{}", "t"), AnalysisOptions{});
    // null clears an optional; unknown members are ignored (a newer client)
    const AnalysisOptions cleared = analysisOptionsFromJson(R"({"factor_count": null, "future_member": [1]})", "t");
    EXPECT_FALSE(cleared.factorCount.has_value());
}

TEST(AnalysisOptionsJson, BadMembersAreNamed)
{
    const auto message = [](const std::string& json) {
        try {
            (void)analysisOptionsFromJson(json, "request 9");
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(message("[1]"), "request 9: options must be a JSON object");
    EXPECT_EQ(message("{oops"), "request 9: options must be a JSON object");
    EXPECT_EQ(message(R"({"lens_mode": "sideways"})"),
              "request 9: options.lens_mode 'sideways' is not a lens mode (normed, raw or sublayer)");
    EXPECT_EQ(message(R"({"saliency_methods": ["gradient", "vibes"]})"),
              "request 9: options.saliency_methods 'vibes' is not a saliency method (grad_x_input, gradient, "
              "integrated_gradients or occlusion)");
    EXPECT_EQ(message(R"({"max_new_tokens": "8"})"), "request 9: options.max_new_tokens has the wrong type");
    EXPECT_EQ(message(R"({"max_new_tokens": 1e3})"), "request 9: options.max_new_tokens has the wrong type");
    EXPECT_EQ(message(R"({"max_new_tokens": 4294967296})"), "request 9: options.max_new_tokens is out of range");
    EXPECT_EQ(message(R"({"seed": -1})"), "request 9: options.seed is out of range");
    EXPECT_EQ(message(R"({"continuation": [1, "a"]})"),
              "request 9: options.continuation has an item of the wrong type");
    EXPECT_EQ(message(R"({"interventions": "ablate:neuron:1:2"})"), "request 9: options.interventions must be a list");
    EXPECT_EQ(message(R"({"lens": 1})"), "request 9: options.lens has the wrong type");
}
