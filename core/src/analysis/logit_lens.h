#pragma once
// The logit lens: every layer's residual stream read out through the final norm (normed) or not
// (raw) and the unembedding; sublayer mode reads after attention and after the MLP of each block.
#include "models/causal_lm.h"

#include "spyglass/report.h"

#include <string>
#include <vector>

namespace spyglass::core {

// `capture` must hold resid_pre.0, resid_post.i (and attn_out.i for sublayer mode) over `ids`;
// `lastLogits` are the model's own logits at the last position [V], for the self-check.
[[nodiscard]] LensSection computeLogitLens(const CausalLm& model, const ActivationCapture& capture,
                                           const torch::Tensor& lastLogits, const std::vector<int>& ids, LensMode mode,
                                           int topK);

// One column of the lens while generating: every layer read out at `position` (the last one
// of the captured sequence), scoring `nextId`. Returns the layer names in `layers`.
[[nodiscard]] std::vector<LensCell> computeLensColumn(const CausalLm& model, const ActivationCapture& capture,
                                                      int64_t position, int nextId, LensMode mode, int topK,
                                                      std::vector<std::string>& layers);

}  // namespace spyglass::core
