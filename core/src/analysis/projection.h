#pragma once
// 2-D activation maps: PCA of per-token vectors (signs fixed so reruns agree) and k-means
// clustering (k-means++ init, seeded; k chosen by the silhouette score when not given).
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace spyglass::core {

struct PcaResult {
    std::vector<std::array<float, 2>> points;
    std::array<float, 2> explainedVariance{};  // fraction of the total variance per axis
};

// x: [n, d]. Each axis's sign makes its largest-magnitude loading positive.
[[nodiscard]] PcaResult pca2d(const torch::Tensor& x);

// Cluster labels for the rows of x [n, d]; k ∈ [1, n] or automatic (2 … min(8, n−1) by silhouette).
[[nodiscard]] std::vector<int> kMeans(const torch::Tensor& x, std::optional<int> k, uint64_t seed);

}  // namespace spyglass::core
