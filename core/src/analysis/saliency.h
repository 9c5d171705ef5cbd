#pragma once
// SaliencyEngine — one generation step with input attributions for the chosen token:
// grad×input and gradient norms from the very forward pass that picks the token (no second
// forward), integrated gradients (batched over the interpolation steps) and occlusion (batched
// over the removed positions). Shares are L2 norms over d_model divided by their sum (Ecco).
#include "models/causal_lm.h"

#include "spyglass/analysis.h"
#include "spyglass/report.h"

#include <functional>
#include <vector>

namespace spyglass::core {

class SaliencyEngine {
public:
    // `checkCancel` is called between batches and throws Cancelled to stop.
    SaliencyEngine(const CausalLm& model, const AnalysisOptions& options, std::function<void()> checkCancel);

    struct Step {
        int next = 0;                   // the chosen token
        std::vector<SaliencyRow> rows;  // one per method, in options order
    };
    // Picks the next token after `context` and explains it; rows have `position` =
    // context.size() and token_id = next. `pick` chooses from the last logits [V] (default argmax).
    // `capture`, when given, receives the activations of that forward pass.
    using Picker = std::function<int(const torch::Tensor& lastLogits)>;
    [[nodiscard]] Step step(const std::vector<int>& context, ActivationCapture* capture = nullptr,
                            const Picker& pick = {}) const;

    // How many IG interpolation steps share one forward/backward pass.
    static constexpr int kIntegratedGradientBatch = 16;

private:
    [[nodiscard]] torch::Tensor target(const torch::Tensor& lastLogits, int next) const;
    [[nodiscard]] double occlusionScore(const torch::Tensor& logProbs, int next) const;
    void integratedGradients(const torch::Tensor& embeddings, int next, SaliencyRow& row) const;
    void occlusion(const std::vector<int>& context, int next, double fullLogProb, SaliencyRow& row) const;

    const CausalLm& m_model;
    AnalysisOptions m_options;
    std::function<void()> m_checkCancel;
    bool m_needsGradient = false;
};

// v / Σv as floats; uniform when the sum is 0 or not finite.
[[nodiscard]] std::vector<float> normalisedShares(const torch::Tensor& v);

}  // namespace spyglass::core
