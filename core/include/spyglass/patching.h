#pragma once
// Activation patching (clean → corrupt): for each layer and position of a site, the clean run's
// activation is written into the corrupt run, and the effect on the metric
//   m = logit[answer] − logit[wrong]   (last position)
// is reported as (m − m_corrupt) / (m_clean − m_corrupt): 1 where the patch restores the clean
// behaviour, 0 where it changes nothing.
//
//   PatchResult r = patchActivations(model, cleanIds, corruptIds, {.site = PatchSite::ResidPre,
//                                    .answer = 6342, .wrong = 4486});
//   r.effect[layer][position];
//
// The patched runs of one layer share one batched forward pass (with the clean and corrupt runs
// beside them, so every row goes through the same arithmetic); long prompts are chunked.
// Interventions set on the model apply to every run. Thread safety: as LanguageModel.
#include "spyglass/language_model.h"
#include "spyglass/progress.h"

#include <string>
#include <vector>

namespace spyglass::core {

enum class PatchSite {
    ResidPre,  // resid_pre.L at one position
    AttnOut,   // attn_out.L at one position
    MlpOut,    // mlp_out.L at one position
    Head,      // one head's output (before the output projection) at every position: layers × heads
};

[[nodiscard]] std::string patchSiteName(PatchSite site);
// "resid_pre", "attn_out", "mlp_out", "head"; throws OptionError("site", …) otherwise.
[[nodiscard]] PatchSite parsePatchSite(const std::string& text);

struct PatchOptions {
    PatchSite site = PatchSite::ResidPre;
    int answer = 0;  // token ids
    int wrong = 0;
    int batch = 64;  // most patched runs per forward pass
};

struct PatchResult {
    PatchSite site = PatchSite::ResidPre;
    std::vector<int> layers;
    std::vector<int> positions;  // the columns (Head: the heads' indices)
    double cleanMetric = 0, corruptMetric = 0;
    std::vector<std::vector<double>> metric;  // [layer][column] m of the patched run
    std::vector<std::vector<double>> effect;  // [layer][column]
    std::vector<double> wholeLayerEffect;     // per layer: every position (every head) patched at once
};

// Throws OptionError for prompts of different lengths, an empty prompt, ids outside the
// vocabulary, answer == wrong, or m_clean == m_corrupt (no effect can be measured); Cancelled.
[[nodiscard]] PatchResult patchActivations(LanguageModel& model, const std::vector<int>& cleanIds,
                                           const std::vector<int>& corruptIds, const PatchOptions& options,
                                           const ProgressCallback& progress = {});

// A token given by a person: "#123" is the id 123; any other text must encode to exactly one
// token (a BOS the tokenizer adds is dropped). Throws OptionError(field, …).
[[nodiscard]] int tokenArgument(const LanguageModel& model, const std::string& text, const std::string& field);

// {"format":"spyglass.patch/1","site","layers","positions" (or "heads"),"metric","clean_metric",
//  "corrupt_metric","effect":[[…]],"whole_layer_effect":[…]} plus `extra` members.
[[nodiscard]] std::string patchResultJson(const PatchResult& result, const std::string& extraJsonObject = "{}");
// The result again from that JSON (the Remote device's "patch" answer; extra members ignored).
// Throws Error naming `source` and the member for a malformed one.
[[nodiscard]] PatchResult patchResultFromJson(const std::string& json, const std::string& source);

}  // namespace spyglass::core
