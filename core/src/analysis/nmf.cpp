#include "analysis/nmf.h"

#include "spyglass/error.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace spyglass::core {

namespace {

// One HALS sweep over the k rows of h [k, m] for X ≈ W H, given gram = WᵀW [k, k] and
// wx = WᵀX [k, m]: row j ← max(0, row j + (wx_j − Σ_i gram_ji·row_i) / gram_jj), the rows before
// j already updated (Gauss–Seidel), as scikit-learn's 'cd' solver. The columns are independent,
// so the sweep runs column block by column block with every row of the block in L1, one pass
// over h and wx.
void sweepRows(torch::Tensor& h, const torch::Tensor& gram, const torch::Tensor& wx)
{
    const int64_t k = h.size(0), m = h.size(1);
    const torch::Tensor g = gram.to(torch::kFloat32).contiguous();
    const torch::Tensor w = wx.to(torch::kFloat32).contiguous();
    const float* gd = g.data_ptr<float>();
    const float* wd = w.data_ptr<float>();
    float* hd = h.data_ptr<float>();
    std::vector<double> diag(static_cast<size_t>(k));
    for (int64_t j = 0; j < k; ++j) diag[static_cast<size_t>(j)] = gd[j * k + j];
    constexpr int64_t kBlock = 256;
    float update[kBlock];
    for (int64_t begin = 0; begin < m; begin += kBlock) {
        const int64_t count = std::min(kBlock, m - begin);
        for (int64_t j = 0; j < k; ++j) {
            const double d = diag[static_cast<size_t>(j)];
            if (d <= 0) continue;
            const float* wxRow = wd + j * m + begin;
            for (int64_t c = 0; c < count; ++c) update[c] = wxRow[c];
            for (int64_t i = 0; i < k; ++i) {
                const float gji = gd[j * k + i];
                const float* hRow = hd + i * m + begin;
                for (int64_t c = 0; c < count; ++c) update[c] -= gji * hRow[c];
            }
            const float inverse = static_cast<float>(1.0 / d);
            float* hRow = hd + j * m + begin;
            for (int64_t c = 0; c < count; ++c) hRow[c] = std::max(0.0F, hRow[c] + update[c] * inverse);
        }
    }
}

// One factorisation in progress; `hx` = H Xᵀ [k, n] and `hh` = H Hᵀ [k, k] of the current H,
// computed for all runs together (see factoriseRuns).
struct Run {
    torch::Tensor wt;  // Wᵀ [k, n]
    torch::Tensor h;   // [k, m]
    NmfResult result;
    double previous = -1;
    double initial = -1;
};

// All runs start from their own W, H and stop exactly as each would alone (same checks, same
// iterations); the products with X — the only large operands — are taken for every active run
// in one matmul, so X is read once per step however many runs there are.
std::vector<NmfResult> factoriseRuns(const torch::Tensor& xIn,
                                     std::vector<std::pair<torch::Tensor, torch::Tensor>> starts,
                                     const NmfOptions& options, const std::function<void()>& checkCancel)
{
    torch::NoGradGuard noGrad;
    // float32 for speed (the matrices are large and wide); error sums are taken in float64.
    const torch::Tensor x = xIn.to(torch::kCPU, torch::kFloat32).contiguous();
    const torch::Tensor x64 = xIn.to(torch::kCPU, torch::kFloat64);
    const double xNormSq = x64.pow(2).sum().item<double>();
    const int64_t k = options.k;
    std::vector<Run> runs(starts.size());
    for (size_t r = 0; r < starts.size(); ++r) {
        runs[r].wt = starts[r].first.to(torch::kCPU, torch::kFloat32).t().contiguous().clone();
        runs[r].h = starts[r].second.to(torch::kCPU, torch::kFloat32).contiguous().clone();
    }
    std::vector<size_t> active(runs.size());
    for (size_t r = 0; r < runs.size(); ++r) active[r] = r;
    auto stackH = [&] {
        std::vector<torch::Tensor> hs;
        for (size_t r : active) hs.push_back(runs[r].h);
        return torch::stack(hs);  // [s, k, m]
    };
    // H Xᵀ and H Hᵀ of every active run, from their current H.
    auto productsOfH = [&](torch::Tensor& hx, torch::Tensor& hh) {
        const torch::Tensor hs = stackH();
        const auto s = static_cast<int64_t>(active.size());
        hx = torch::mm(hs.view({s * k, -1}), x.t()).view({s, k, -1});
        hh = torch::bmm(hs, hs.transpose(1, 2));
    };
    torch::Tensor hx, hh;
    productsOfH(hx, hh);
    int iteration = 0;
    while (!active.empty() && iteration < options.maxIterations) {
        ++iteration;
        // W step as the H step of the transposed problem Xᵀ ≈ Hᵀ Wᵀ, then the H step.
        std::vector<torch::Tensor> wts;
        for (size_t a = 0; a < active.size(); ++a) {
            Run& run = runs[active[a]];
            sweepRows(run.wt, hh[static_cast<int64_t>(a)], hx[static_cast<int64_t>(a)]);
            wts.push_back(run.wt);
        }
        const torch::Tensor ws = torch::stack(wts);  // [s, k, n]
        const auto s = static_cast<int64_t>(active.size());
        const torch::Tensor wx = torch::mm(ws.view({s * k, -1}), x).view({s, k, -1});
        const torch::Tensor ww = torch::bmm(ws, ws.transpose(1, 2));
        for (size_t a = 0; a < active.size(); ++a)
            sweepRows(runs[active[a]].h, ww[static_cast<int64_t>(a)], wx[static_cast<int64_t>(a)]);
        const bool last = iteration == options.maxIterations;
        productsOfH(hx, hh);
        if (iteration % 10 != 0 && !last) continue;
        if (checkCancel) checkCancel();
        std::vector<size_t> going;
        std::vector<int64_t> keep;
        for (size_t a = 0; a < active.size(); ++a) {
            Run& run = runs[active[a]];
            const auto i = static_cast<int64_t>(a);
            // ‖X − WH‖² = ‖X‖² − 2·tr(Wᵀ X Hᵀ) + tr(WᵀW · HHᵀ)
            const double cross = (run.wt.to(torch::kFloat64) * hx[i].to(torch::kFloat64)).sum().item<double>();
            const double quad = (ww[i].to(torch::kFloat64) * hh[i].to(torch::kFloat64)).sum().item<double>();
            const double error = std::sqrt(std::max(0.0, xNormSq - 2 * cross + quad));
            if (run.initial < 0) run.initial = error;
            const bool converged =
                run.previous >= 0 && (run.previous - error) / std::max(run.initial, 1e-300) < options.tolerance;
            run.previous = error;
            if (converged || last) {
                run.result.iterations = iteration;
            } else {
                going.push_back(active[a]);
                keep.push_back(i);
            }
        }
        if (going.size() != active.size() && !going.empty()) {
            const torch::Tensor index = torch::tensor(keep);
            hx = hx.index_select(0, index);
            hh = hh.index_select(0, index);
        }
        active = std::move(going);
    }
    std::vector<NmfResult> results;
    for (Run& run : runs) {
        NmfResult& result = run.result;
        if (result.iterations == 0) result.iterations = iteration;
        result.w = run.wt.t().to(torch::kFloat64).contiguous();
        result.h = run.h.to(torch::kFloat64);
        result.error = (x64 - torch::mm(result.w, result.h)).norm().item<double>();
        results.push_back(std::move(result));
    }
    return results;
}

}  // namespace

NmfResult factoriseFrom(const torch::Tensor& xIn, torch::Tensor w, torch::Tensor h, const NmfOptions& options,
                        const std::function<void()>& checkCancel)
{
    return factoriseRuns(xIn, {{std::move(w), std::move(h)}}, options, checkCancel).front();
}

std::vector<NmfResult> factoriseSeeds(const torch::Tensor& x, const NmfOptions& options,
                                      const std::vector<uint64_t>& seeds, const std::function<void()>& checkCancel)
{
    if (x.dim() != 2) throw Error("NMF needs a matrix");
    if ((x < 0).any().item<bool>()) throw Error("NMF needs a non-negative matrix");
    const int64_t n = x.size(0), m = x.size(1);
    const double average = std::sqrt(std::max(x.to(torch::kFloat64).mean().item<double>(), 0.0) / options.k);
    std::vector<std::pair<torch::Tensor, torch::Tensor>> starts;
    for (uint64_t seed : seeds) {
        std::mt19937_64 rng(seed);
        std::normal_distribution<double> normal;
        auto randomFactor = [&](int64_t rows, int64_t cols) {
            torch::Tensor t = torch::empty({rows, cols}, torch::kFloat32);
            float* data = t.data_ptr<float>();
            for (int64_t i = 0; i < rows * cols; ++i) data[i] = static_cast<float>(average * std::abs(normal(rng)));
            return t;
        };
        torch::Tensor h = randomFactor(options.k, m);
        torch::Tensor w = randomFactor(n, options.k);
        starts.emplace_back(std::move(w), std::move(h));
    }
    return factoriseRuns(x, std::move(starts), options, checkCancel);
}

NmfResult factorise(const torch::Tensor& x, const NmfOptions& options, const std::function<void()>& checkCancel)
{
    return factoriseSeeds(x, options, {options.seed}, checkCancel).front();
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
