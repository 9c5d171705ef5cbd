#include "analysis/nmf.h"

#include "spyglass/error.h"

#include <cmath>
#include <random>

namespace spyglass::core {

namespace {

// One HALS sweep over the rows of `h` for X ≈ W H: gram = WᵀW [k,k], wx = WᵀX [k,m]. Each row is
// updated with the rows before it already updated (Gauss–Seidel), as scikit-learn's 'cd' solver.
void sweepRows(torch::Tensor& h, const torch::Tensor& gram, const torch::Tensor& wx)
{
    const int64_t k = h.size(0);
    const torch::Tensor g = gram.to(torch::kFloat64).contiguous();
    const auto acc = g.accessor<double, 2>();
    for (int64_t j = 0; j < k; ++j) {
        const double diag = acc[j][j];
        if (diag <= 0) continue;
        torch::Tensor row = h[j];
        const torch::Tensor update = (wx[j] - torch::mv(h.t(), gram[j])) / diag;
        row.add_(update).clamp_min_(0.0);
    }
}

double squaredError(double xNormSq, const torch::Tensor& w, const torch::Tensor& h, const torch::Tensor& xht)
{
    // ‖X − WH‖² = ‖X‖² − 2·tr(Wᵀ X Hᵀ) + tr(WᵀW · HHᵀ)
    const double cross = (w.to(torch::kFloat64) * xht.to(torch::kFloat64)).sum().item<double>();
    const double quad =
        (torch::mm(w.t(), w).to(torch::kFloat64) * torch::mm(h, h.t()).to(torch::kFloat64)).sum().item<double>();
    return std::max(0.0, xNormSq - 2 * cross + quad);
}

}  // namespace

NmfResult factoriseFrom(const torch::Tensor& xIn, torch::Tensor w, torch::Tensor h, const NmfOptions& options,
                        const std::function<void()>& checkCancel)
{
    torch::NoGradGuard noGrad;
    // float32 for speed (the matrices are large and wide); error sums are taken in float64.
    const torch::Tensor x = xIn.to(torch::kCPU, torch::kFloat32).contiguous();
    w = w.to(torch::kCPU, torch::kFloat32).contiguous().clone();
    h = h.to(torch::kCPU, torch::kFloat32).contiguous().clone();
    const double xNormSq = x.to(torch::kFloat64).pow(2).sum().item<double>();
    NmfResult result;
    double previous = -1;
    double initial = -1;
    int iteration = 0;
    while (iteration < options.maxIterations) {
        ++iteration;
        // W step as the H step of the transposed problem Xᵀ ≈ Hᵀ Wᵀ, then the H step.
        torch::Tensor wt = w.t().contiguous();
        sweepRows(wt, torch::mm(h, h.t()), torch::mm(h, x.t()));
        w = wt.t().contiguous();
        sweepRows(h, torch::mm(w.t(), w), torch::mm(w.t(), x));
        if (iteration % 10 == 0 || iteration == options.maxIterations) {
            if (checkCancel) checkCancel();
            const double error = std::sqrt(squaredError(xNormSq, w, h, torch::mm(x, h.t())));
            if (initial < 0) initial = error;
            if (previous >= 0 && (previous - error) / std::max(initial, 1e-300) < options.tolerance) break;
            previous = error;
        }
    }
    result.w = w.to(torch::kFloat64);
    result.h = h.to(torch::kFloat64);
    result.error = (x.to(torch::kFloat64) - torch::mm(result.w, result.h)).norm().item<double>();
    result.iterations = iteration;
    return result;
}

NmfResult factorise(const torch::Tensor& x, const NmfOptions& options, const std::function<void()>& checkCancel)
{
    if (x.dim() != 2) throw Error("NMF needs a matrix");
    if ((x < 0).any().item<bool>()) throw Error("NMF needs a non-negative matrix");
    const int64_t n = x.size(0), m = x.size(1);
    const double average = std::sqrt(std::max(x.to(torch::kFloat64).mean().item<double>(), 0.0) / options.k);
    std::mt19937_64 rng(options.seed);
    std::normal_distribution<double> normal;
    auto randomFactor = [&](int64_t rows, int64_t cols) {
        torch::Tensor t = torch::empty({rows, cols}, torch::kFloat32);
        float* data = t.data_ptr<float>();
        for (int64_t i = 0; i < rows * cols; ++i) data[i] = static_cast<float>(average * std::abs(normal(rng)));
        return t;
    };
    torch::Tensor h = randomFactor(options.k, m);
    torch::Tensor w = randomFactor(n, options.k);
    return factoriseFrom(x, w, h, options, checkCancel);
}

double meanBestMatchCosine(const torch::Tensor& a, const torch::Tensor& b)
{
    const torch::Tensor an =
        torch::nn::functional::normalize(a.to(torch::kFloat64), torch::nn::functional::NormalizeFuncOptions().dim(1));
    const torch::Tensor bn =
        torch::nn::functional::normalize(b.to(torch::kFloat64), torch::nn::functional::NormalizeFuncOptions().dim(1));
    return std::get<0>(torch::mm(an, bn.t()).max(1)).mean().item<double>();
}

}  // namespace spyglass::core
