#include "cli/commands.h"
#include "cli/common_options.h"
#include "cli/intervention_options.h"

#include "spyglass/analysis.h"
#include "spyglass/error.h"
#include "spyglass/language_model.h"
#include "spyglass/report_json.h"

#include <iostream>

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

int runAnalyze(const std::vector<std::string>& args)
{
    ArgParser parser("analyze", "--model PATH --prompt T [options] --out report.json");
    addModelOptions(parser);
    parser.addOption("prompt", "T", "prompt text");
    parser.addOption("max-new-tokens", "N", "tokens to generate and explain (default 8)");
    parser.addOption("temperature", "X", "sample at this temperature (default 0: greedy, as Ecco)");
    parser.addOption("sample-top-k", "K", "sample from the K most likely tokens (default 0: off)");
    parser.addOption("top-p", "P", "sample from the smallest set with probability ≥ P (default 1: off)");
    parser.addOption("saliency", "M,M", "methods: grad_x_input (default), gradient, integrated_gradients, occlusion");
    parser.addOption("saliency-target", "prob|logit", "differentiate the token's probability (default) or logit");
    parser.addOption("contrast-with", "TOKEN",
                     "contrastive saliency: explain target(token) − target(TOKEN) (\"why X rather than TOKEN\"; "
                     "text of one token or #ID)");
    parser.addOption("continuation", "TEXT",
                     "forced decoding: explain the tokens of TEXT instead of the model's own (ignores "
                     "--max-new-tokens)");
    parser.addOption("continuation-ids", "1,2,3", "forced decoding on token ids");
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
    addInterventionOptions(parser);
    parser.addFlag("save-loadings", "also write the factor loadings to <out>.loadings.safetensors");
    parser.addOption("out", "FILE", "report JSON to write (spyglass.report/1)");
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout << parser.helpText()
                  << "\nGenerates (greedily unless --temperature is given) and writes every section of the report:\n"
                     "saliency rows for each generated token, the logit lens, activation factors and\nthe 2-D map. "
                     "Progress goes to stderr.\n";
        return 0;
    }
    const std::string modelPath = parser.required("model");
    const std::string prompt = parser.required("prompt");
    const std::string outPath = parser.required("out");
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
    const std::string device = applyRuntimeOptions(parser);

    auto model = core::LanguageModel::load(modelPath, loadOptions(parser, device));
    if (parser.has("contrast-with"))
        o.contrastWith = singleToken(*model, *parser.value("contrast-with"), "--contrast-with");
    if (parser.has("continuation") && parser.has("continuation-ids"))
        throw UsageError("give --continuation or --continuation-ids, not both");
    if (auto text = parser.value("continuation")) {
        o.continuation = model->encode(*text);
        const auto& bos = model->info().bosId;
        if (!o.continuation.empty() && bos && o.continuation.front() == *bos)
            o.continuation.erase(o.continuation.begin());
        if (o.continuation.empty()) throw UsageError("--continuation: the text has no tokens");
    }
    if (auto ids = parser.value("continuation-ids")) o.continuation = parseIds(*ids, "continuation-ids");
    applyInterventions(parser, *model);
    core::validateAnalysisOptions(o, model->info());
    core::Report report = core::analyze(*model, prompt, o, [](const core::Progress& p) {
        logProgress(p.stage + (p.total > 1 ? " " + std::to_string(p.done) + "/" + std::to_string(p.total) : ""));
        return true;
    });
    if (parser.has("save-loadings") && report.factors) {
        const std::string loadings = outPath + ".loadings.safetensors";
        core::writeFactorLoadings(report, loadings);
        report.factors->loadingsFile = std::filesystem::path(loadings).filename().string();
    }
    if (const std::string note = core::contextLimitNote(report, model->info(), o.maxNewTokens); !note.empty())
        logProgress(note, true);
    core::writeReport(report, outPath);
    logProgress("wrote " + outPath, true);
    return 0;
}

}  // namespace spyglass::cli
