#pragma once
// Sampler — picks the next token from logits: greedy, or temperature → top-k → top-p (the order
// Hugging Face applies them) with a seeded generator, so a seed gives the same text on any device.
// Thread safety: one sampler per generation.
#include "spyglass/language_model.h"

#include <random>
#include <vector>

namespace spyglass::core {

class Sampler {
public:
    explicit Sampler(const SamplingOptions& options);
    // `logits` holds one float per vocabulary entry.
    [[nodiscard]] int next(const std::vector<float>& logits);

private:
    SamplingOptions m_options;
    std::mt19937_64 m_rng;
};

}  // namespace spyglass::core
