#pragma once
// Non-negative matrix factorisation X ≈ W H (Frobenius loss) by coordinate descent over columns
// (HALS, the update scikit-learn's 'cd' solver makes), seeded random init as sklearn's
// init='random' (|N(0,1)|·sqrt(mean(X)/k)), in float32 with libtorch (errors summed in float64).
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace spyglass::core {

struct NmfResult {
    torch::Tensor w;   // [n, k]
    torch::Tensor h;   // [k, m]
    double error = 0;  // ‖X − WH‖_F
    int iterations = 0;
};

struct NmfOptions {
    int k = 10;
    int maxIterations = 500;
    double tolerance = 1e-4;  // relative decrease of the error between checks (as sklearn's tol)
    uint64_t seed = 0;
};

// X must be non-negative [n, m]. `checkCancel` is called every few iterations.
[[nodiscard]] NmfResult factorise(const torch::Tensor& x, const NmfOptions& options,
                                  const std::function<void()>& checkCancel = {});
// One factorisation per seed (as factorise with options.seed = each), run side by side so the
// products with X are shared; each stops exactly as it would alone.
[[nodiscard]] std::vector<NmfResult> factoriseSeeds(const torch::Tensor& x, const NmfOptions& options,
                                                    const std::vector<uint64_t>& seeds,
                                                    const std::function<void()>& checkCancel = {});
// Same, starting from given factors (for comparisons with a reference solver's init).
[[nodiscard]] NmfResult factoriseFrom(const torch::Tensor& x, torch::Tensor w, torch::Tensor h,
                                      const NmfOptions& options, const std::function<void()>& checkCancel = {});

// Mean over the rows of `a` of the best cosine similarity with any row of `b`.
[[nodiscard]] double meanBestMatchCosine(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace spyglass::core
