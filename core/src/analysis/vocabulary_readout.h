#pragma once
// Reads rows of the residual stream out through the unembedding without materialising softmax:
// per row the top-k tokens and their probabilities, the entropy, and the rank and probability of
// a given next token. The logits are computed a vocabulary slice at a time in the transposed
// layout (CausalLm::unembedTransposed, near the BLAS peak) for blocks of rows, and reduced in one
// pass over them (rank count, top-k by a running threshold) plus one for the sum of exp.
#include "models/causal_lm.h"

#include "spyglass/report.h"

#include <vector>

namespace spyglass::core {

// rows [R, D]: already through the final norm where the read-out wants it. nextIds[r]: the token
// whose rank and probability row r reports, or −1 for none. Cells in row order.
[[nodiscard]] std::vector<LensCell> readVocabulary(const CausalLm& model, const torch::Tensor& rows,
                                                   const std::vector<int>& nextIds, int topK);

// Only the top-k token ids of each row's logits (descending; ties: the lower id first).
[[nodiscard]] std::vector<std::vector<int>> topTokens(const CausalLm& model, const torch::Tensor& rows, int topK);

}  // namespace spyglass::core
