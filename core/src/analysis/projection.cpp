#include "analysis/projection.h"

#include "spyglass/error.h"

#include <limits>
#include <random>

namespace spyglass::core {

PcaResult pca2d(const torch::Tensor& xIn)
{
    torch::NoGradGuard noGrad;
    const torch::Tensor x = xIn.to(torch::kCPU, torch::kFloat64);
    const int64_t n = x.size(0);
    PcaResult result;
    result.points.assign(static_cast<size_t>(n), {0.0F, 0.0F});
    if (n < 2) return result;
    const torch::Tensor centred = x - x.mean(0, true);
    // The top two principal axes from the eigenvectors of the smaller Gram matrix (C Cᵀ when
    // there are fewer points than dimensions, else Cᵀ C): the SVD's axes, at a third of its cost
    // for 1,000 positions × 3,072 neurons. Points = C·v, with v the unit loading vector.
    const bool fewPoints = n <= centred.size(1);
    const torch::Tensor gram = fewPoints ? torch::mm(centred, centred.t()) : torch::mm(centred.t(), centred);
    const auto [values, vectors] = torch::linalg_eigh(gram);  // ascending
    const double total = centred.pow(2).sum().item<double>();
    const int64_t size = values.size(0);
    for (int64_t axis = 0; axis < std::min<int64_t>(2, size); ++axis) {
        const double variance = std::max(values[size - 1 - axis].item<double>(), 0.0);
        const torch::Tensor eigenvector = vectors.select(1, size - 1 - axis);
        // The loading (right singular vector) and the coordinates (u·s) of this axis.
        torch::Tensor loading = fewPoints ? torch::mv(centred.t(), eigenvector) : eigenvector;
        if (fewPoints) loading = variance > 0 ? loading / std::sqrt(variance) : torch::zeros_like(loading);
        const double sign = loading[loading.abs().argmax()].item<double>() < 0 ? -1.0 : 1.0;
        const torch::Tensor coordinates = (torch::mv(centred, loading) * sign).contiguous();
        const double* c = coordinates.data_ptr<double>();
        for (int64_t i = 0; i < n; ++i)
            result.points[static_cast<size_t>(i)][static_cast<size_t>(axis)] = static_cast<float>(c[i]);
        result.explainedVariance[static_cast<size_t>(axis)] = total > 0 ? static_cast<float>(variance / total) : 0.0F;
    }
    return result;
}

namespace {

struct Clustering {
    std::vector<int> labels;
    double inertia = 0;
};

// Squared distances of every point to every centre [n, k], as ‖x‖² − 2 x·c + ‖c‖² (one matmul;
// torch::cdist builds a padded copy of x on every call).
torch::Tensor squaredDistances(const torch::Tensor& x, const torch::Tensor& xNormSq, const torch::Tensor& c)
{
    return (xNormSq.unsqueeze(1) - 2 * torch::mm(x, c.t()) + c.pow(2).sum(1).unsqueeze(0)).clamp_min_(0);
}

Clustering lloyd(const torch::Tensor& x, int k, std::mt19937_64& rng)
{
    const torch::Tensor xNormSq = x.pow(2).sum(1);
    const int64_t n = x.size(0);
    // k-means++ seeding.
    std::vector<int64_t> centres{static_cast<int64_t>(rng() % static_cast<uint64_t>(n))};
    torch::Tensor best = (x - x[centres[0]]).pow(2).sum(1);
    while (static_cast<int>(centres.size()) < k) {
        const std::vector<double> weights(best.data_ptr<double>(), best.data_ptr<double>() + n);
        double total = 0;
        for (double w : weights) total += w;
        int64_t pick = 0;
        if (total > 0) {
            std::discrete_distribution<int64_t> choose(weights.begin(), weights.end());
            pick = choose(rng);
        } else {
            pick = static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
        }
        centres.push_back(pick);
        best = torch::minimum(best, (x - x[pick]).pow(2).sum(1));
    }
    torch::Tensor c = x.index_select(0, torch::tensor(centres, torch::kInt64)).clone();
    torch::Tensor labels;
    for (int iteration = 0; iteration < 100; ++iteration) {
        torch::Tensor next = squaredDistances(x, xNormSq, c).argmin(1);
        if (labels.defined() && next.equal(labels)) break;
        labels = next;
        for (int j = 0; j < k; ++j) {
            const torch::Tensor members = labels == j;
            if (members.any().item<bool>()) c[j] = x.index({members}).mean(0);
        }
    }
    Clustering out;
    out.inertia = std::get<0>(squaredDistances(x, xNormSq, c).min(1)).sum().item<double>();
    const torch::Tensor finalLabels = labels.contiguous();
    for (int64_t i = 0; i < n; ++i) out.labels.push_back(static_cast<int>(finalLabels.data_ptr<int64_t>()[i]));
    return out;
}

// distances: the pairwise distances of the points [n, n] (float64, contiguous).
double silhouette(const torch::Tensor& distances, const std::vector<int>& labels, int k)
{
    const auto d = distances.accessor<double, 2>();
    const int64_t n = distances.size(0);
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
        std::vector<double> sum(static_cast<size_t>(k), 0.0);
        std::vector<int> count(static_cast<size_t>(k), 0);
        for (int64_t j = 0; j < n; ++j) {
            if (j == i) continue;
            sum[static_cast<size_t>(labels[static_cast<size_t>(j)])] += d[i][j];
            ++count[static_cast<size_t>(labels[static_cast<size_t>(j)])];
        }
        const int own = labels[static_cast<size_t>(i)];
        if (count[static_cast<size_t>(own)] == 0) continue;  // singleton: silhouette 0
        const double a = sum[static_cast<size_t>(own)] / count[static_cast<size_t>(own)];
        double b = std::numeric_limits<double>::infinity();
        for (int c = 0; c < k; ++c)
            if (c != own && count[static_cast<size_t>(c)] > 0)
                b = std::min(b, sum[static_cast<size_t>(c)] / count[static_cast<size_t>(c)]);
        if (std::isfinite(b) && std::max(a, b) > 0) total += (b - a) / std::max(a, b);
    }
    return total / static_cast<double>(n);
}

}  // namespace

std::vector<int> kMeans(const torch::Tensor& xIn, std::optional<int> k, uint64_t seed)
{
    torch::NoGradGuard noGrad;
    const torch::Tensor x = xIn.to(torch::kCPU, torch::kFloat64).contiguous();
    const int64_t n = x.size(0);
    if (k && (*k < 1 || *k > n))
        throw Error("cluster count " + std::to_string(*k) + " must be between 1 and the number of positions (" +
                    std::to_string(n) + ")");
    std::mt19937_64 rng(seed);
    if (k) return lloyd(x, *k, rng).labels;
    if (n < 4) return std::vector<int>(static_cast<size_t>(n), 0);
    Clustering bestClustering;
    double bestScore = -2;
    const torch::Tensor distances = torch::cdist(x, x).contiguous();  // once for every candidate k
    for (int candidate = 2; candidate <= std::min<int64_t>(8, n - 1); ++candidate) {
        Clustering c = lloyd(x, candidate, rng);
        const double score = silhouette(distances, c.labels, candidate);
        if (score > bestScore) {
            bestScore = score;
            bestClustering = std::move(c);
        }
    }
    return bestClustering.labels;
}

}  // namespace spyglass::core
