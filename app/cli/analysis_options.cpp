#include "cli/analysis_options.h"

#include "cli/common_options.h"

namespace spyglass::cli {

namespace {

std::vector<std::string> splitList(const std::string& text)
{
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t end = text.find(',', pos);
        if (end == std::string::npos) end = text.size();
        if (end > pos) out.push_back(text.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

}  // namespace

void addAnalysisOptions(ArgParser& parser)
{
    parser.addOption("max-new-tokens", "N", "tokens to generate and explain (default 8)");
    parser.addOption("temperature", "X", "sample at this temperature (default 0: greedy, as Ecco)");
    parser.addOption("sample-top-k", "K", "sample from the K most likely tokens (default 0: off)");
    parser.addOption("top-p", "P", "sample from the smallest set with probability ≥ P (default 1: off)");
    parser.addOption("saliency", "M,M", "methods: grad_x_input (default), gradient, integrated_gradients, occlusion");
    parser.addOption("saliency-target", "prob|logit", "differentiate the token's probability (default) or logit");
    parser.addOption("ig-steps", "N", "integrated-gradients steps (default 50)");
    parser.addOption("occlusion", "remove|replace", "occlusion removes the token (default) or replaces it with EOS");
    parser.addOption("lens", "MODE", "logit lens: normed (default), raw (Ecco-compatible) or sublayer");
    parser.addOption("top-k", "K", "lens top-k (default 10)");
    parser.addOption("factors", "K", "NMF factors (default min(10, positions))");
    parser.addOption("factor-layers", "A:B", "layers A … B−1 to factorise (default all)");
    parser.addOption("projection", "pca|umap", "2-D projection method (default pca)");
    parser.addOption("projection-layer", "L", "layer of the 2-D map (default the last)");
    parser.addOption("projection-source", "mlp_act|resid", "vectors of the 2-D map (default mlp_act)");
    parser.addOption("clusters", "K", "k-means clusters of the 2-D map (default: chosen by silhouette)");
    parser.addOption("clusters-by", "kmeans|nmf",
                     "clusters of the 2-D map: k-means (default) or each token's strongest factor");
    parser.addOption("seed", "S", "seed for sampling, NMF and k-means (default 0)");
}

core::AnalysisOptions analysisOptions(const ArgParser& parser)
{
    core::AnalysisOptions o;
    o.maxNewTokens = parser.intValue("max-new-tokens", 8);
    o.temperature = static_cast<float>(parser.doubleValue("temperature", 0.0));
    o.sampleTopK = parser.intValue("sample-top-k", 0);
    o.sampleTopP = static_cast<float>(parser.doubleValue("top-p", 1.0));
    if (auto s = parser.value("saliency")) {
        o.saliencyMethods.clear();
        for (const std::string& m : splitList(*s))
            o.saliencyMethods.push_back(parseNamedOption<core::SaliencyMethod>(m, "--saliency"));
    }
    o.saliencyTarget =
        parseNamedOption<core::SaliencyTarget>(parser.value("saliency-target").value_or("prob"), "--saliency-target");
    o.integratedGradientSteps = parser.intValue("ig-steps", 50);
    if (auto occ = parser.value("occlusion")) {
        if (*occ != "remove" && *occ != "replace") throw UsageError("--occlusion must be remove or replace");
        o.occlusionReplace = *occ == "replace";
    }
    o.lensMode = parseNamedOption<core::LensMode>(parser.value("lens").value_or("normed"), "--lens");
    o.lensTopK = parser.intValue("top-k", 10);
    if (parser.has("factors")) o.factorCount = parser.intValue("factors", 10);
    if (auto layers = parser.value("factor-layers")) {
        const size_t colon = layers->find(':');
        if (colon == std::string::npos) throw UsageError("--factor-layers expects A:B, got '" + *layers + "'");
        try {
            o.factorLayerBegin = std::stoi(layers->substr(0, colon));
            o.factorLayerEnd = std::stoi(layers->substr(colon + 1));
        } catch (const std::exception&) {
            throw UsageError("--factor-layers expects A:B with integers, got '" + *layers + "'");
        }
    }
    o.projectionMethod =
        parseNamedOption<core::ProjectionMethod>(parser.value("projection").value_or("pca"), "--projection");
    o.projectionLayer = parser.intValue("projection-layer", -1);
    o.projectionSource = parseNamedOption<core::ProjectionSource>(parser.value("projection-source").value_or("mlp_act"),
                                                                  "--projection-source");
    if (parser.has("clusters")) o.clusterCount = parser.intValue("clusters", 0);
    o.clusterMethod =
        parseNamedOption<core::ClusterMethod>(parser.value("clusters-by").value_or("kmeans"), "--clusters-by");
    o.seed = static_cast<uint64_t>(parser.intValue("seed", 0));
    return o;
}

}  // namespace spyglass::cli
