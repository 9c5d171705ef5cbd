#pragma once
// SaliencyEngine — input attributions of tokens already chosen: grad×input and gradient norms
// from one forward pass over the whole sequence and one backward per chunk of targets, their
// one-hot cotangents batched (the vmap'd vector–Jacobian product: no forward or backward pass
// per token); integrated gradients (batched over the interpolation steps) and occlusion
// (batched over the removed positions) per target. Shares are L2 norms over d_model divided by
// their sum (Ecco).
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

    // Explains ids[first], ids[first + 1], …, ids.back(), each from the tokens before it, in
    // order: `onRows` gets the position (= its context's length) and one row per method, in
    // options order, with token_id = ids[position]. 1 ≤ first < ids.size().
    // With `capture`, the forward pass runs over the last token too and `capture` receives its
    // activations of capture->kinds over all of ids, detached, and `lastLogits` the model's logits
    // at the last position [V]: the pass the analysis' other sections read, not made twice.
    using RowsCallback = std::function<void(int position, std::vector<SaliencyRow> rows)>;
    void explain(const std::vector<int>& ids, int first, const RowsCallback& onRows,
                 ActivationCapture* capture = nullptr, torch::Tensor* lastLogits = nullptr) const;

    // How many IG interpolation steps share one forward/backward pass.
    static constexpr int kIntegratedGradientBatch = 16;

private:
    [[nodiscard]] torch::Tensor target(const torch::Tensor& lastLogits, int next) const;
    // target() of each row of logits [G, V] for its own token next [G].
    [[nodiscard]] torch::Tensor targets(const torch::Tensor& logits, const torch::Tensor& next) const;
    // How many targets one batched backward takes over `length` positions (its memory).
    [[nodiscard]] int64_t targetsPerBackward(int64_t length) const;
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
