#include "analysis/nmf.h"

#include "spyglass/error.h"

#include <cmath>
#include <random>

namespace spyglass::core {

namespace {

// One sweep of HALS over the columns of `w` for X ≈ W Hᵀ-form: w [n,k], gram = HHᵀ [k,k],
// xh = X Hᵀ [n,k]. Updates w in place.
void sweep(torch::Tensor& w, const torch::Tensor& gram, const torch::Tensor& xh)
{
    const int64_t k = w.size(1);
    auto g = gram.accessor<double, 2>();
    for (int64_t j = 0; j < k; ++j) {
        const double diag = g[j][j];
        if (diag <= 0) continue;
        torch::Tensor column = w.select(1, j);
        const torch::Tensor update = (xh.select(1, j) - torch::mv(w, gram.select(1, j))) / diag;
        column.add_(update).clamp_min_(0.0);
    }
}

double squaredError(double xNormSq, const torch::Tensor& w, const torch::Tensor& h, const torch::Tensor& xht)
{
    // ‖X − WH‖² = ‖X‖² − 2·tr(Wᵀ X Hᵀ) + tr(WᵀW · HHᵀ)
    const double cross = (w * xht).sum().item<double>();
    const double quad = (torch::mm(w.t(), w) * torch::mm(h, h.t())).sum().item<double>();
    return std::max(0.0, xNormSq - 2 * cross + quad);
}

}  // namespace

NmfResult factoriseFrom(const torch::Tensor& xIn, torch::Tensor w, torch::Tensor h, const NmfOptions& options,
                        const std::function<void()>& checkCancel)
{
    torch::NoGradGuard noGrad;
    const torch::Tensor x = xIn.to(torch::kCPU, torch::kFloat64).contiguous();
    w = w.to(torch::kCPU, torch::kFloat64).contiguous().clone();
    h = h.to(torch::kCPU, torch::kFloat64).contiguous().clone();
    const double xNormSq = x.pow(2).sum().item<double>();
    NmfResult result;
    double previous = -1;
    double initial = -1;
    int iteration = 0;
    while (iteration < options.maxIterations) {
        ++iteration;
        // W step (rows = positions), then H step on the transposed problem.
        sweep(w, torch::mm(h, h.t()), torch::mm(x, h.t()));
        torch::Tensor ht = h.t().contiguous();
        sweep(ht, torch::mm(w.t(), w), torch::mm(x.t(), w));
        h = ht.t().contiguous();
        if (iteration % 10 == 0 || iteration == options.maxIterations) {
            if (checkCancel) checkCancel();
            const double error = std::sqrt(squaredError(xNormSq, w, h, torch::mm(x, h.t())));
            if (initial < 0) initial = error;
            if (previous >= 0 && (previous - error) / std::max(initial, 1e-300) < options.tolerance) break;
            previous = error;
        }
    }
    result.w = w;
    result.h = h;
    result.error = (x - torch::mm(w, h)).norm().item<double>();
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
        torch::Tensor t = torch::empty({rows, cols}, torch::kFloat64);
        double* data = t.data_ptr<double>();
        for (int64_t i = 0; i < rows * cols; ++i) data[i] = average * std::abs(normal(rng));
        return t;
    };
    torch::Tensor h = randomFactor(options.k, m);
    torch::Tensor w = randomFactor(n, options.k);
    return factoriseFrom(x, w, h, options, checkCancel);
}

double meanBestMatchCosine(const torch::Tensor& a, const torch::Tensor& b)
{
    const torch::Tensor an = torch::nn::functional::normalize(a.to(torch::kFloat64), torch::nn::functional::NormalizeFuncOptions().dim(1));
    const torch::Tensor bn = torch::nn::functional::normalize(b.to(torch::kFloat64), torch::nn::functional::NormalizeFuncOptions().dim(1));
    return std::get<0>(torch::mm(an, bn.t()).max(1)).mean().item<double>();
}

}  // namespace spyglass::core
