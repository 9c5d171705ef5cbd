#include "spyglass/analysis.h"

#include "analysis/intervention_scope.h"
#include "analysis/logit_lens.h"
#include "analysis/nmf.h"
#include "analysis/progress_prefix.h"
#include "analysis/projection.h"
#include "analysis/saliency.h"
#include "analysis/vocabulary_readout.h"
#include "models/language_model_impl.h"
#include "models/sampler.h"
#include "models/torch_weights.h"
#include "spyglass/error.h"
#include "spyglass/runtime.h"
#include "spyglass/version.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace spyglass::core {

namespace fs = std::filesystem;

namespace {

int factorLayerEnd(const AnalysisOptions& o, const ModelInfo& info)
{
    return o.factorLayerEnd < 0 ? info.layerCount : o.factorLayerEnd;
}

std::string settingsJson(const AnalysisOptions& o, const LanguageModel& model, const std::string& prompt, int factorK)
{
    const ModelInfo& info = model.info();
    nlohmann::json s;
    s["prompt"] = sanitizeUtf8(prompt);
    s["max_new_tokens"] = o.maxNewTokens;
    if (!o.continuation.empty())
        s["decoding"] = {{"method", "forced"}, {"continuation_ids", o.continuation}};
    else if (o.temperature > 0)
        s["decoding"] = {
            {"method", "sample"}, {"temperature", o.temperature}, {"top_k", o.sampleTopK}, {"top_p", o.sampleTopP}};
    else
        s["decoding"] = "greedy";
    std::vector<std::string> methods;
    for (SaliencyMethod m : o.saliencyMethods) methods.push_back(nameString(m));
    s["saliency"] = {{"methods", methods},
                     {"target", name(o.saliencyTarget)},
                     {"integrated_gradients_steps", o.integratedGradientSteps},
                     {"integrated_gradients_baseline", "zero"},
                     {"occlusion", o.occlusionReplace ? "replace" : "remove"}};
    if (o.contrastWith) s["saliency"]["contrast_with"] = *o.contrastWith;
    std::vector<std::string> interventions;
    for (const Intervention& i : model.interventions())
        if (i.enabled) {
            // A factor spec resolves to one intervention per layer: record it once.
            std::string spec = sanitizeUtf8(formatIntervention(i));
            if (std::find(interventions.begin(), interventions.end(), spec) == interventions.end())
                interventions.push_back(std::move(spec));
        }
    if (!interventions.empty()) s["interventions"] = interventions;
    if (o.lens) s["lens"] = {{"mode", name(o.lensMode)}, {"top_k", o.lensTopK}};
    if (o.factors)
        s["factors"] = {{"k", factorK},
                        {"layers", {o.factorLayerBegin, factorLayerEnd(o, info)}},
                        {"solver", "coordinate descent (HALS), Frobenius"},
                        {"init", "random |N(0,1)|·sqrt(mean(X)/k)"},
                        {"max_iterations", o.factorMaxIterations},
                        {"stability_seeds", o.factorStabilitySeeds}};
    if (o.projection)
        s["projection"] = {{"method", name(o.projectionMethod)},
                           {"source", name(o.projectionSource)},
                           {"layer", o.projectionLayer < 0 ? info.layerCount - 1 : o.projectionLayer},
                           {"clusters", o.clusterCount ? nlohmann::json(*o.clusterCount) : nlohmann::json("auto")},
                           {"clusters_by", name(o.clusterMethod)}};
    s["seed"] = o.seed;
    s["device"] = info.device;
    s["threads"] = threadCount();
    s["spyglass_version"] = kVersion;
    return s.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

FactorSection computeFactors(const CausalLm& model, const ActivationCapture& capture, const AnalysisOptions& o,
                             int positions, const std::function<void()>& checkCancel)
{
    const ModelInfo& info = model.info();
    FactorSection f;
    const int end = factorLayerEnd(o, info);
    std::vector<torch::Tensor> blocks;
    for (int l = o.factorLayerBegin; l < end; ++l) {
        f.layers.push_back(l);
        blocks.push_back(capture.tensors.at("mlp_act." + std::to_string(l)).select(0, 0).clamp_min(0));
    }
    const torch::Tensor x = torch::cat(blocks, 1).to(torch::kCPU, torch::kFloat64);
    f.k = o.factorCount.value_or(std::min(10, positions));
    if (f.k > positions)
        throw OptionError("factorCount", std::to_string(f.k) + " is larger than the number of positions (" +
                                             std::to_string(positions) + ")");
    for (int p = 0; p < positions; ++p) f.positions.push_back(p);
    NmfOptions nmf;
    nmf.k = f.k;
    nmf.maxIterations = o.factorMaxIterations;
    // The stability seeds run beside the reported one, sharing its products with X.
    std::vector<uint64_t> seeds;
    for (int s = 0; s <= o.factorStabilitySeeds; ++s) seeds.push_back(o.seed + static_cast<uint64_t>(s));
    const std::vector<NmfResult> runs = factoriseSeeds(x, nmf, seeds, checkCancel);
    const NmfResult& result = runs.front();
    f.reconstructionError = result.error;
    f.inputNorm = x.norm().item<double>();
    f.iterations = result.iterations;
    const torch::Tensor strengths = result.w.t().contiguous();
    for (int j = 0; j < f.k; ++j) {
        const torch::Tensor row = strengths[j].to(torch::kFloat32).contiguous();
        f.strengths.emplace_back(row.data_ptr<float>(), row.data_ptr<float>() + row.numel());
    }
    f.loadings = toHost(result.h);
    double stability = 0;
    for (size_t s = 1; s < runs.size(); ++s) stability += meanBestMatchCosine(result.h, runs[s].h);
    f.stability = o.factorStabilitySeeds > 0 ? stability / o.factorStabilitySeeds : 1.0;
    // What each factor writes through each layer's down-projection, read by the unembedding: all
    // factors × layers in one read-out, so the unembedding matrix is read once.
    c10::InferenceMode guard;
    const int64_t neurons = info.mlpWidth;
    const int64_t layerCount = static_cast<int64_t>(f.layers.size());
    const torch::Tensor h = result.h.to(model.device(), torch::kFloat32).view({f.k, layerCount, neurons});
    std::vector<torch::Tensor> written;  // per layer [k, D]
    for (int64_t li = 0; li < layerCount; ++li)
        written.push_back(torch::matmul(h.select(1, li), model.mlpDownProjection(f.layers[static_cast<size_t>(li)])));
    const int topK = std::min(10, info.vocabSize);
    const std::vector<std::vector<int>> top =
        topTokens(model, torch::stack(written, 1).view({f.k * layerCount, -1}), topK);  // [k · L][topK]
    f.topTokens.assign(static_cast<size_t>(f.k), std::vector<std::vector<int>>(static_cast<size_t>(layerCount)));
    for (int j = 0; j < f.k; ++j)
        for (int64_t li = 0; li < layerCount; ++li)
            f.topTokens[static_cast<size_t>(j)][static_cast<size_t>(li)] =
                top[static_cast<size_t>(j * layerCount + li)];
    return f;
}

ProjectionSection computeProjection(const CausalLm& model, const ActivationCapture& capture, const AnalysisOptions& o,
                                    const std::optional<FactorSection>& factors)
{
    ProjectionSection p;
    p.layer = o.projectionLayer < 0 ? model.info().layerCount - 1 : o.projectionLayer;
    p.source = o.projectionSource;
    p.method = o.projectionMethod;
    const std::string tensor =
        (o.projectionSource == ProjectionSource::Resid ? "resid_post." : "mlp_act.") + std::to_string(p.layer);
    const torch::Tensor x = capture.tensors.at(tensor).select(0, 0);
    const PcaResult pca = pca2d(x);
    p.points = pca.points;
    p.explainedVariance = pca.explainedVariance;
    p.clusterMethod = o.clusterMethod;
    if (o.clusterMethod == ClusterMethod::Nmf && factors) {
        // Each token's strongest factor, strengths scaled by each factor's maximum (as the factors view colours them).
        for (size_t pos = 0; pos < factors->positions.size(); ++pos) {
            int best = 0;
            double bestValue = -1;
            for (int j = 0; j < factors->k; ++j) {
                const auto& row = factors->strengths[static_cast<size_t>(j)];
                const double max = *std::max_element(row.begin(), row.end());
                const double value = max > 0 ? row[pos] / max : 0;
                if (value > bestValue) {
                    bestValue = value;
                    best = j;
                }
            }
            p.clusters.push_back(best);
        }
    } else {
        p.clusters = kMeans(x, o.clusterCount, o.seed);
    }
    return p;
}

// Character class of a UTF-8 code unit sequence's first/last character: 0 space, 1 letter or
// other, 2 digit, 3 ASCII punctuation.
int charClass(unsigned char c)
{
    if (std::isspace(c)) return 0;
    if (std::isdigit(c)) return 2;
    if (c < 0x80 && std::ispunct(c)) return 3;
    return 1;
}

std::vector<ReportWord> groupWords(const std::vector<ReportToken>& tokens)
{
    std::vector<ReportWord> words;
    int previousLast = -1;
    for (size_t i = 0; i < tokens.size(); ++i) {
        const std::string text = tokens[i].text.value_or("");
        const int first = text.empty() ? 1 : charClass(static_cast<unsigned char>(text.front()));
        const bool starts = words.empty() || first == 0 || first != previousLast || first == 3;
        if (starts) words.push_back({static_cast<int>(i), static_cast<int>(i), ""});
        words.back().endToken = static_cast<int>(i) + 1;
        words.back().text += text;
        previousLast = text.empty() ? 1 : charClass(static_cast<unsigned char>(text.back()));
    }
    return words;
}

}  // namespace

void validateAnalysisOptions(const AnalysisOptions& o, const ModelInfo& info)
{
    // Enumerators outside their tables (a cast from a bad integer) are caught here too.
    for (SaliencyMethod m : o.saliencyMethods)
        if (static_cast<size_t>(m) >= Names<SaliencyMethod>::list.size())
            throw OptionError("saliencyMethods", "unknown saliency method");
    if (o.integratedGradientSteps < 1)
        throw OptionError("integratedGradientSteps", "integrated gradients need at least 1 step");
    if (o.maxNewTokens < 0) throw OptionError("maxNewTokens", "must be ≥ 0");
    if (!(o.temperature >= 0)) throw OptionError("temperature", "must be ≥ 0 (0 means greedy)");
    if (o.sampleTopK < 0) throw OptionError("sampleTopK", "must be ≥ 0 (0 means off)");
    if (!(o.sampleTopP > 0 && o.sampleTopP <= 1)) throw OptionError("sampleTopP", "must be in (0, 1]");
    if (o.lensTopK < 1 || o.lensTopK > info.vocabSize)
        throw OptionError("lensTopK",
                          "must be between 1 and the vocabulary size (" + std::to_string(info.vocabSize) + ")");
    if (o.factorCount && *o.factorCount < 1) throw OptionError("factorCount", "must be at least 1");
    const int end = factorLayerEnd(o, info);
    if (o.factorLayerBegin < 0 || o.factorLayerBegin >= end || end > info.layerCount)
        throw OptionError("factorLayers", std::to_string(o.factorLayerBegin) + ":" + std::to_string(end) +
                                              " is not a non-empty range within 0:" + std::to_string(info.layerCount));
    if (o.projectionMethod == ProjectionMethod::Umap)
        throw OptionError("projectionMethod", "umap is not available in this version (use pca)");
    if (o.projection && o.clusterMethod == ClusterMethod::Nmf && !o.factors)
        throw OptionError("clusterMethod", "nmf needs the factors section");
    if (o.contrastWith && (*o.contrastWith < 0 || *o.contrastWith >= info.vocabSize))
        throw OptionError("contrastWith", "token id " + std::to_string(*o.contrastWith) + " is outside the vocabulary");
    for (int id : o.continuation)
        if (id < 0 || id >= info.vocabSize)
            throw OptionError("continuation", "token id " + std::to_string(id) + " is outside the vocabulary");
    if (o.projectionLayer < -1 || o.projectionLayer >= info.layerCount)
        throw OptionError("projectionLayer",
                          std::to_string(o.projectionLayer) + " is outside 0 … " + std::to_string(info.layerCount - 1));
}

namespace {

Report analyzeEncoded(LanguageModel& model, const std::string& prompt, const Encoding& encoding,
                      const AnalysisOptions& o, const ProgressCallback& progress, const AnalysisObserver& observer);

}  // namespace

Report analyze(LanguageModel& model, const std::string& prompt, const AnalysisOptions& o,
               const ProgressCallback& progress, const AnalysisObserver& observer)
{
    validateAnalysisOptions(o, model.info());
    if (prompt.empty()) throw Error("the prompt is empty");
    if (!model.tokenizer())
        throw Error("model '" + model.info().path.string() + "' has no tokenizer files; analyze it on token ids");
    return analyzeEncoded(model, prompt, model.tokenizer()->encode(prompt), o, progress, observer);
}

namespace {

// One forward pass over a report's tokens, capturing `kinds`.
ActivationCapture captureOver(const CausalLm& lm, const Report& base, uint32_t kinds)
{
    if (base.tokens.empty()) throw Error("the report has no tokens");
    ActivationCapture capture;
    capture.kinds = kinds;
    c10::InferenceMode guard;
    std::vector<int64_t> ids;
    for (const auto& t : base.tokens) ids.push_back(t.id);
    ForwardOptions f;
    f.capture = &capture;
    f.lastLogitsOnly = true;
    (void)lm.forward(torch::tensor(ids).view({1, -1}).to(lm.device()), f);
    return capture;
}

}  // namespace

std::string contextLimitNote(const Report& report, const ModelInfo& info, int requestedNewTokens)
{
    const auto generated =
        std::count_if(report.tokens.begin(), report.tokens.end(), [](const ReportToken& t) { return t.generated; });
    if (generated >= requestedNewTokens || static_cast<int>(report.tokens.size()) < info.contextLength) return {};
    return "stopped at the model's context window (" + std::to_string(info.contextLength) + " tokens) after " +
           std::to_string(generated) + " of " + std::to_string(requestedNewTokens) + " new tokens";
}

namespace {

// The interventions `base` was made with (settings.interventions), to apply again when the model
// has none of its own (the app's runs); none when the model has its own (the CLI sets them).
std::vector<std::string> recordedInterventions(const LanguageModel& model, const Report& base)
{
    if (!model.interventions().empty()) return {};
    return recordedInterventions(base);
}

// Recomputing a section of `base` with other weights would mix two models in one report.
void checkSameWeights(const LanguageModel& model, const Report& base)
{
    if (!base.model.sha256.empty() && !model.info().sha256.empty() && base.model.sha256 != model.info().sha256)
        throw Error("the model's weights differ from the ones this report was made with (sha256 " +
                    model.info().sha256.substr(0, 12) + "… now, " + base.model.sha256.substr(0, 12) +
                    "… in the report); run the analysis again");
}

}  // namespace

Report refactor(LanguageModel& model, const Report& base, const AnalysisOptions& o, const ProgressCallback& progress)
{
    validateAnalysisOptions(o, model.info());
    checkSameWeights(model, base);
    const int positions = static_cast<int>(base.tokens.size());
    if (o.factorCount && *o.factorCount > positions)
        throw OptionError("factorCount", std::to_string(*o.factorCount) + " is larger than the number of positions (" +
                                             std::to_string(positions) + ")");
    Progress current{"factors", 0, 1};
    auto checkCancel = [&] {
        if (progress && !progress(current)) throw Cancelled();
    };
    checkCancel();
    const InterventionScope scope(model, recordedInterventions(model, base));
    const CausalLm& lm = *model.impl().model;
    const ActivationCapture capture = captureOver(lm, base, kCaptureMlpAct);
    Report r = base;
    r.factors = computeFactors(lm, capture, o, positions, checkCancel);
    for (const auto& factor : r.factors->topTokens)
        for (const auto& layer : factor)
            for (int id : layer)
                r.tokenTexts.try_emplace(
                    id, model.tokenizer() ? model.tokenizer()->tokenText(id) : "#" + std::to_string(id));
    current.done = 1;
    checkCancel();
    return r;
}

PromptComparison comparePrompts(LanguageModel& model, const std::string& promptA, const std::string& promptB,
                                const AnalysisOptions& options, const ProgressCallback& progress)
{
    validateAnalysisOptions(options, model.info());
    AnalysisOptions each = options;
    each.factors = false;
    each.projection = false;
    PromptComparison c;
    c.a = analyze(model, promptA, each, prefixedProgress(progress, "A"));
    c.b = analyze(model, promptB, each, prefixedProgress(progress, "B"));
    c.alignment = alignTokens(tokenTexts(c.a), tokenTexts(c.b));
    if (options.factors) {
        if (progress && !progress({"joint factors", 0, 1})) throw Cancelled();
        const InterventionScope scope(model, options.interventionSpecs);
        const CausalLm& lm = *model.impl().model;
        const ActivationCapture a = captureOver(lm, c.a, kCaptureMlpAct);
        const ActivationCapture b = captureOver(lm, c.b, kCaptureMlpAct);
        ActivationCapture joint;  // A's positions, then B's, as one sequence for the factoriser
        for (const auto& [name, tensor] : a.tensors) joint.tensors[name] = torch::cat({tensor, b.tensors.at(name)}, 1);
        const int positions = static_cast<int>(c.a.tokens.size() + c.b.tokens.size());
        AnalysisOptions o = options;
        if (!o.factorCount) o.factorCount = std::min(10, positions);
        c.factors = computeFactors(lm, joint, o, positions, [&] {
            if (progress && !progress({"joint factors", 0, 1})) throw Cancelled();
        });
        for (const auto& factor : c.factors->topTokens)
            for (const auto& layer : factor)
                for (int id : layer)
                    for (Report* r : {&c.a, &c.b})
                        r->tokenTexts.try_emplace(
                            id, model.tokenizer() ? model.tokenizer()->tokenText(id) : "#" + std::to_string(id));
        if (progress && !progress({"joint factors", 1, 1})) throw Cancelled();
    }
    return c;
}

Report reproject(LanguageModel& model, const Report& base, const AnalysisOptions& o, const ProgressCallback& progress)
{
    validateAnalysisOptions(o, model.info());
    checkSameWeights(model, base);
    if (o.clusterMethod == ClusterMethod::Nmf && !base.factors)
        throw OptionError("clusterMethod", "nmf needs the factors section");
    if (progress && !progress({"projection", 0, 1})) throw Cancelled();
    const InterventionScope scope(model, recordedInterventions(model, base));
    const CausalLm& lm = *model.impl().model;
    Report r = base;
    r.projection = computeProjection(lm, captureOver(lm, base, kCaptureMlpAct | kCaptureResidPost), o, base.factors);
    if (progress && !progress({"projection", 1, 1})) throw Cancelled();
    return r;
}

Report analyzeIds(LanguageModel& model, const std::vector<int>& promptIds, const AnalysisOptions& o,
                  const ProgressCallback& progress, const AnalysisObserver& observer)
{
    validateAnalysisOptions(o, model.info());
    Encoding encoding;
    encoding.ids = promptIds;
    for (int id : promptIds)
        if (id < 0 || id >= model.info().vocabSize)
            throw Error("token id " + std::to_string(id) + " is outside the vocabulary");
    std::string text;
    for (size_t i = 0; i < promptIds.size(); ++i) text += (i ? "," : "") + std::to_string(promptIds[i]);
    return analyzeEncoded(model, "ids:" + text, encoding, o, progress, observer);
}

namespace {

Report analyzeEncoded(LanguageModel& model, const std::string& prompt, const Encoding& encoding,
                      const AnalysisOptions& o, const ProgressCallback& progress, const AnalysisObserver& observer)
{
    const ModelInfo& info = model.info();
    const Tokenizer* tokenizer = model.tokenizer();
    const InterventionScope scope(model, o.interventionSpecs);
    if (encoding.ids.empty()) throw Error("the prompt has no tokens");
    if (static_cast<int>(encoding.ids.size()) > info.contextLength)
        throw Error("the prompt has " + std::to_string(encoding.ids.size()) +
                    " tokens but the model's context window is " + std::to_string(info.contextLength) +
                    " tokens; shorten the prompt");
    const int maxPositions = std::min<int>(info.contextLength, static_cast<int>(encoding.ids.size()) + o.maxNewTokens);
    if (o.factors && o.factorCount && *o.factorCount > maxPositions)
        throw OptionError("factorCount", std::to_string(*o.factorCount) + " is larger than the number of positions (" +
                                             std::to_string(maxPositions) + ")");

    Progress current;
    auto report = [&](const std::string& stage, int done, int total) {
        current = {stage, done, total};
        if (progress && !progress(current)) throw Cancelled();
    };
    auto checkCancel = [&] {
        if (progress && !progress(current)) throw Cancelled();
    };
    const CausalLm& lm = *model.impl().model;

    // The partial report grows only through the updates the observer sees.
    Report r;
    auto publish = [&](ReportUpdate update) {
        applyUpdate(r, update);
        if (observer) observer(update, r);
    };
    auto tokenAt = [&](int id, bool generated, std::optional<std::pair<size_t, size_t>> offset) {
        ReportToken t;
        t.id = id;
        if (tokenizer) t.text = tokenizer->tokenText(id);
        t.generated = generated;
        t.offset = offset;
        return t;
    };
    {
        AnalysisStarted started;
        started.model = {info.path.string(), info.architecture, info.sha256,   info.layerCount,
                         info.headCount,     info.modelWidth,   info.vocabSize};
        for (SaliencyMethod m : o.saliencyMethods) started.saliency.push_back({m, o.saliencyTarget, {}});
        for (size_t p = 0; p < encoding.ids.size(); ++p)
            started.promptTokens.push_back(
                tokenAt(encoding.ids[p], false,
                        p < encoding.offsets.size() ? std::optional(encoding.offsets[p]) : std::nullopt));
        publish(std::move(started));
    }

    // Generation with a key/value cache (one position per step after the prompt); the saliency of
    // every generated token follows in one batched pass over the final sequence.
    std::vector<int> ids = encoding.ids;
    Sampler sampler({.temperature = o.temperature, .topK = o.sampleTopK, .topP = o.sampleTopP, .seed = o.seed});
    int step = 0;
    auto pick = [&](const torch::Tensor& last) {
        if (!o.continuation.empty()) return o.continuation[static_cast<size_t>(step)];
        if (o.temperature <= 0) return static_cast<int>(last.argmax().item<int64_t>());
        const torch::Tensor cpu = last.to(torch::kCPU, torch::kFloat32).contiguous();
        return sampler.next(std::vector<float>(cpu.data_ptr<float>(), cpu.data_ptr<float>() + cpu.numel()));
    };
    const int newTokens = o.continuation.empty() ? o.maxNewTokens : static_cast<int>(o.continuation.size());
    const bool liveLens = observer && o.lens;
    KvCache cache;
    for (; step < newTokens && static_cast<int>(ids.size()) < info.contextLength; ++step) {
        report("generating", step, newTokens);
        const int position = static_cast<int>(ids.size()) - 1;
        int next = 0;
        ActivationCapture stepCapture;  // for the live lens column
        stepCapture.kinds = liveLens ? kCaptureResidPre | kCaptureResidPost | kCaptureAttnOut : 0;
        if (!o.continuation.empty() && !liveLens) {
            next = pick(torch::Tensor());  // forced tokens need no forward pass here
        } else {
            c10::InferenceMode guard;
            ForwardOptions f;
            f.lastLogitsOnly = true;
            f.capture = &stepCapture;
            f.cache = &cache;
            f.startPosition = cache.length;
            const std::vector<int64_t> fresh(ids.begin() + cache.length, ids.end());
            next = pick(lm.forward(torch::tensor(fresh).view({1, -1}).to(lm.device()), f)[0][0]);
        }
        ids.push_back(next);
        publish(TokenGenerated{tokenAt(next, true, std::nullopt)});
        if (liveLens) {
            LensColumnReady column;
            column.position = position;
            column.mode = o.lensMode;
            column.topK = o.lensTopK;
            // The step's capture holds only the positions it computed; the last is `position`.
            const int64_t local = stepCapture.tensors.at("resid_pre.0").size(1) - 1;
            column.cells = computeLensColumn(lm, stepCapture, local, next, o.lensMode, o.lensTopK, column.layers);
            for (const LensCell& cell : column.cells)
                for (int top : cell.topIds)
                    column.tokenTexts.try_emplace(top,
                                                  tokenizer ? tokenizer->tokenText(top) : "#" + std::to_string(top));
            publish(std::move(column));
        }
        if (o.continuation.empty() && info.eosId && next == *info.eosId) break;
    }
    report("generating", newTokens, newTokens);
    const int first = static_cast<int>(encoding.ids.size());
    const int explained = static_cast<int>(ids.size()) - first;
    const int positions = static_cast<int>(ids.size());
    // What the remaining sections read: one forward over everything — the saliency's own when it
    // runs (it then covers the last token too), else one made here.
    ActivationCapture capture;
    capture.kinds = kCaptureResidPre | kCaptureResidPost | kCaptureAttnOut | kCaptureMlpAct;
    torch::Tensor lastLogits;  // [V]: the model's own, at the last position (the lens self-check)
    if (!o.saliencyMethods.empty() && explained > 0) {
        const SaliencyEngine saliency(lm, o, checkCancel);
        report("saliency", 0, explained);
        saliency.explain(
            ids, first,
            [&](int position, std::vector<SaliencyRow> rows) {
                for (size_t m = 0; m < rows.size(); ++m) publish(SaliencyRowReady{m, std::move(rows[m])});
                report("saliency", position - first + 1, explained);
            },
            &capture, &lastLogits);
    } else {
        c10::InferenceMode guard;
        ForwardOptions f;
        f.capture = &capture;
        f.lastLogitsOnly = true;  // the other positions' logits are read below only where needed
        const torch::Tensor ids64 =
            torch::tensor(std::vector<int64_t>(ids.begin(), ids.end())).view({1, -1}).to(lm.device());
        lastLogits = lm.forward(ids64, f)[0][0];
    }

    r.words = groupWords(r.tokens);
    for (auto& section : r.saliency)
        for (auto& row : section.rows)
            for (const auto& word : r.words) {
                if (word.firstToken >= row.position) break;
                float sum = 0;
                for (int t = word.firstToken; t < std::min(word.endToken, row.position); ++t)
                    sum += row.scores[static_cast<size_t>(t)];
                row.wordScores.push_back(sum);
            }

    // Each generated token's log-probability, read from the position that predicted it.
    if (explained > 0) {
        c10::InferenceMode guard;
        const torch::Tensor next =
            torch::tensor(std::vector<int64_t>(ids.begin() + first, ids.end())).to(lm.device()).view({-1, 1});
        const torch::Tensor finalResidual =
            capture.tensors.at("resid_post." + std::to_string(info.layerCount - 1)).select(0, 0);
        const torch::Tensor logits = lm.unembed(lm.finalNorm(finalResidual.slice(0, first - 1, positions - 1)));
        const torch::Tensor logProbs =
            torch::log_softmax(logits.to(torch::kFloat32), -1).gather(1, next).view({-1}).to(torch::kCPU).contiguous();
        for (int p = first; p < positions; ++p)
            r.tokens[static_cast<size_t>(p)].logProb = logProbs.data_ptr<float>()[p - first];
    }
    if (o.lens) {
        report("lens", 0, 1);
        r.lens = computeLogitLens(lm, capture, lastLogits, ids, o.lensMode, o.lensTopK);
    }
    const int factorK = o.factorCount.value_or(std::min(10, positions));
    auto text = [&](int id) { return tokenizer ? tokenizer->tokenText(id) : "#" + std::to_string(id); };
    if (o.factors) {
        report("factors", 0, 1);
        FactorsReady factors{computeFactors(lm, capture, o, positions, checkCancel), {}};
        for (const auto& factor : factors.factors.topTokens)
            for (const auto& layer : factor)
                for (int id : layer) factors.tokenTexts.try_emplace(id, text(id));
        publish(std::move(factors));
    }
    if (o.projection) {
        report("projection", 0, 1);
        publish(ProjectionReady{computeProjection(lm, capture, o, r.factors)});
    }
    auto label = [&](int id) { r.tokenTexts.try_emplace(id, text(id)); };
    for (const auto& t : r.tokens) label(t.id);
    if (r.lens)
        for (const auto& layer : r.lens->cells)
            for (const auto& cell : layer)
                for (int id : cell.topIds) label(id);
    if (r.factors)
        for (const auto& factor : r.factors->topTokens)
            for (const auto& layer : factor)
                for (int id : layer) label(id);
    r.settingsJson = settingsJson(o, model, prompt, factorK);
    report("done", 1, 1);
    return r;
}

}  // namespace

}  // namespace spyglass::core
