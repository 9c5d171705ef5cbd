#include "models/sampler.h"

#include "spyglass/error.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace spyglass::core {

Sampler::Sampler(const SamplingOptions& options) : m_options(options), m_rng(options.seed)
{
    if (options.temperature < 0) throw Error("temperature must be ≥ 0 (0 means greedy)");
    if (options.topK < 0) throw Error("top-k must be ≥ 0 (0 means off)");
    if (!(options.topP > 0 && options.topP <= 1)) throw Error("top-p must be in (0, 1]");
}

int Sampler::next(const std::vector<float>& logits)
{
    if (logits.empty()) throw Error("no logits to sample from");
    if (m_options.temperature <= 0)
        return static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    std::vector<int> order(logits.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        return logits[static_cast<size_t>(a)] != logits[static_cast<size_t>(b)]
                   ? logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)]
                   : a < b;
    });
    size_t keep = order.size();
    if (m_options.topK > 0) keep = std::min(keep, static_cast<size_t>(m_options.topK));
    const double maxLogit = logits[static_cast<size_t>(order.front())];
    std::vector<double> probs(keep);
    double sum = 0;
    for (size_t i = 0; i < keep; ++i) {
        probs[i] = std::exp((logits[static_cast<size_t>(order[i])] - maxLogit) / m_options.temperature);
        sum += probs[i];
    }
    for (auto& p : probs) p /= sum;
    if (m_options.topP < 1) {
        // Smallest prefix whose mass reaches top-p (the token that crosses it stays).
        double cumulative = 0;
        size_t n = 0;
        while (n < keep) {
            cumulative += probs[n++];
            if (cumulative >= m_options.topP) break;
        }
        keep = std::max<size_t>(n, 1);
        probs.resize(keep);
    }
    std::discrete_distribution<size_t> pick(probs.begin(), probs.end());
    return order[pick(m_rng)];
}

}  // namespace spyglass::core
