#pragma once
// The analysis engine: generation with per-token input saliency, the logit lens, activation
// factors (NMF) and a 2-D activation map, as one Report (docs/report-format.md).
//
//   AnalysisOptions o;                       // every section, Ecco-compatible defaults
//   Report r = analyze(*model, "1, 2, 3,", o, progress, [](const SaliencyRow& row) { paint(row); });
//
// Thread safety: runs on the calling thread and uses the model exclusively for its duration.
#include "spyglass/language_model.h"
#include "spyglass/progress.h"
#include "spyglass/prompt_comparison.h"
#include "spyglass/report.h"
#include "spyglass/report_update.h"
#include "spyglass/run_diff.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace spyglass::core {

struct AnalysisOptions {
    int maxNewTokens = 8;
    // Decoding: greedy when temperature is 0 (Ecco's default), else temperature → top-k → top-p
    // sampling seeded by `seed`; every section explains the token actually chosen.
    float temperature = 0.0F;
    int sampleTopK = 0;       // 0: off
    float sampleTopP = 1.0F;  // 1: off
    // Saliency: any methods (empty: none), each a section of the report in this order.
    std::vector<SaliencyMethod> saliencyMethods{SaliencyMethod::GradXInput};
    SaliencyTarget saliencyTarget = SaliencyTarget::Prob;
    // Contrastive attribution: explain target(X) − target(Y) ("why X rather than Y"), Y this id.
    std::optional<int> contrastWith;
    // Forced decoding: explain these tokens, in order, instead of the model's own choices
    // (maxNewTokens is then ignored; each row explains the given token).
    std::vector<int> continuation;
    // Interventions for this run only, on top of the model's own (LanguageModel::setInterventions):
    // specs as in intervention.h (neuron, head, steer; factor specs need the CLI's --factors-from).
    // Recorded in the report's settings.interventions; refactor()/reproject() apply a report's
    // recorded specs again.
    std::vector<std::string> interventionSpecs;
    int integratedGradientSteps = 50;
    bool occlusionReplace = false;      // replace the token with occlusionToken instead of removing it
    std::optional<int> occlusionToken;  // default: the EOS/BOS id, else 0
    // Lens
    bool lens = true;
    LensMode lensMode = LensMode::Normed;
    int lensTopK = 10;
    // Factors
    bool factors = true;
    std::optional<int> factorCount;  // default min(10, positions)
    int factorLayerBegin = 0;        // inclusive
    int factorLayerEnd = -1;         // exclusive; −1: all layers
    int factorMaxIterations = 500;
    int factorStabilitySeeds = 2;  // extra seeds used to measure stability (0: skip)
    // Projection
    bool projection = true;
    ProjectionMethod projectionMethod = ProjectionMethod::Pca;  // umap: not available yet
    ProjectionSource projectionSource = ProjectionSource::MlpAct;
    int projectionLayer = -1;                             // −1: the last layer
    std::optional<int> clusterCount;                      // default: chosen by silhouette
    ClusterMethod clusterMethod = ClusterMethod::KMeans;  // Nmf: each token's strongest factor
    uint64_t seed = 0;                                    // sampling, NMF init and k-means
};

// Throws OptionError for bad options (naming the field), Error for a bad prompt (empty, past the
// context window), Cancelled when `progress` returns false. The prompt is tokenized once, with
// the model's tokenizer (BOS as it says). `observer` sees each stage as it is computed, in order:
// AnalysisStarted (prompt tokens), then per generated token TokenGenerated, its SaliencyRowReady
// rows (one per method) and its LensColumnReady, then FactorsReady and ProjectionReady; with the
// engine's partial report after the update was applied (see report_update.h).
using AnalysisObserver = std::function<void(const ReportUpdate& update, const Report& partial)>;
[[nodiscard]] Report analyze(LanguageModel& model, const std::string& prompt, const AnalysisOptions& options,
                             const ProgressCallback& progress = {}, const AnalysisObserver& observer = {});

// The same on token ids (for models without tokenizer files: token texts are then null).
[[nodiscard]] Report analyzeIds(LanguageModel& model, const std::vector<int>& promptIds, const AnalysisOptions& options,
                                const ProgressCallback& progress = {}, const AnalysisObserver& observer = {});

// Recomputes only the factors of `base` (another k or layer range: options.factorCount,
// factorLayerBegin/End, seed) from one forward pass over its tokens; the rest is kept. Both this
// and reproject() throw Error when the model's weights are not the ones `base` was made with.
[[nodiscard]] Report refactor(LanguageModel& model, const Report& base, const AnalysisOptions& options,
                              const ProgressCallback& progress = {});

// Recomputes only the 2-D map of `base` (options.projectionLayer, projectionSource, clusterCount,
// clusterMethod, seed) from one forward pass over its tokens; the rest is kept.
[[nodiscard]] Report reproject(LanguageModel& model, const Report& base, const AnalysisOptions& options,
                               const ProgressCallback& progress = {});

// What interventions change: the run with them (`edited`, the model's own interventions plus
// options.interventionSpecs; `observer` streams it), the same prompt without any (`baseline`) and,
// when the edited run said something else, the interventions forced along the baseline's tokens
// (`forced`; otherwise the edited run itself), with their RunDiff. The baseline and forced runs
// compute saliency and the lens only. Throws as analyze() does, OptionError when there is no
// intervention at all; the model's interventions are as before afterwards.
struct InterventionEffect {
    Report edited, baseline, forced;
    RunDiff diff;
};
[[nodiscard]] InterventionEffect analyzeInterventionEffect(LanguageModel& model, const std::string& prompt,
                                                           const AnalysisOptions& options,
                                                           const ProgressCallback& progress = {},
                                                           const AnalysisObserver& observer = {});

// A/B: both prompts analysed with `options` (saliency and lens; their own factors and maps off),
// aligned token by token, and NMF factors fitted on both runs' MLP activations together
// (options.factorCount, default min(10, positions of both); the layer range and seed as for
// analyze). Throws as analyze() does.
[[nodiscard]] PromptComparison comparePrompts(LanguageModel& model, const std::string& promptA,
                                              const std::string& promptB, const AnalysisOptions& options,
                                              const ProgressCallback& progress = {});

// "stopped at the model's context window (128 tokens) after 3 of 8 new tokens" when generation
// ran into the window before `requestedNewTokens`; empty otherwise (all generated, or EOS).
[[nodiscard]] std::string contextLimitNote(const Report& report, const ModelInfo& info, int requestedNewTokens);

// Validates options against a model before any work; throws OptionError naming the field.
void validateAnalysisOptions(const AnalysisOptions& options, const ModelInfo& info);

}  // namespace spyglass::core
