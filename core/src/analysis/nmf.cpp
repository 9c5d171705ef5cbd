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
// over h and wx. Compiled twice: for any x86-64 and, chosen at run time, with AVX2 and FMA.
[[gnu::always_inline]] inline void sweepBody(float* hd, int64_t k, int64_t m, const float* gd, const float* wd)
{
    constexpr int64_t kBlock = 256;
    float update[kBlock];
    for (int64_t begin = 0; begin < m; begin += kBlock) {
        const int64_t count = std::min(kBlock, m - begin);
        for (int64_t j = 0; j < k; ++j) {
            const float d = gd[j * k + j];
            if (!(d > 0)) continue;
            const float* wxRow = wd + j * m + begin;
            for (int64_t c = 0; c < count; ++c) update[c] = wxRow[c];
            for (int64_t i = 0; i < k; ++i) {
                const float gji = gd[j * k + i];
                const float* hRow = hd + i * m + begin;
                for (int64_t c = 0; c < count; ++c) update[c] -= gji * hRow[c];
            }
            const float inverse = 1.0F / d;
            float* hRow = hd + j * m + begin;
            for (int64_t c = 0; c < count; ++c) hRow[c] = std::max(0.0F, hRow[c] + update[c] * inverse);
        }
    }
}

void sweepPortable(float* h, int64_t k, int64_t m, const float* gram, const float* wx)
{
    sweepBody(h, k, m, gram, wx);
}

__attribute__((target("avx2,fma"))) void sweepAvx2(float* h, int64_t k, int64_t m, const float* gram, const float* wx)
{
    sweepBody(h, k, m, gram, wx);
}

void sweepRows(const torch::Tensor& h, const torch::Tensor& gram, const torch::Tensor& wx)
{
    static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    (avx2 ? sweepAvx2 : sweepPortable)(h.data_ptr<float>(), h.size(0), h.size(1), gram.data_ptr<float>(),
                                       wx.data_ptr<float>());
}

// All runs start from their own W, H and stop exactly as each would alone (same checks, same
// iterations); the products with X — the only large operands — are taken for every active run
// in one matmul, so X is read once per step however many runs there are. The active runs' Wᵀ
// and H live in one [runs, k, ·] tensor each.
std::vector<NmfResult> factoriseRuns(const torch::Tensor& xIn,
                                     const std::vector<std::pair<torch::Tensor, torch::Tensor>>& starts,
                                     const NmfOptions& options, const std::function<void()>& checkCancel)
{
    torch::NoGradGuard noGrad;
    // float32 for speed (the matrices are large and wide); error sums are taken in float64.
    const torch::Tensor x = xIn.to(torch::kCPU, torch::kFloat32).contiguous();
    const torch::Tensor x64 = xIn.to(torch::kCPU, torch::kFloat64);
    const double xNormSq = x64.pow(2).sum().item<double>();
    const int64_t k = options.k;
    std::vector<torch::Tensor> wts, hs;
    for (const auto& [w, h] : starts) {
        wts.push_back(w.to(torch::kCPU, torch::kFloat32).t());
        hs.push_back(h.to(torch::kCPU, torch::kFloat32));
    }
    torch::Tensor wt = torch::stack(wts).contiguous();  // [s, k, n]
    torch::Tensor h = torch::stack(hs).contiguous();    // [s, k, m]
    struct Progress {
        double previous = -1;
        double initial = -1;
    };
    std::vector<Progress> progress(starts.size());
    std::vector<NmfResult> results(starts.size());
    std::vector<size_t> active(starts.size());  // run index of each slot of wt and h
    for (size_t r = 0; r < active.size(); ++r) active[r] = r;
    auto finish = [&](size_t run, const torch::Tensor& runWt, const torch::Tensor& runH, int iteration) {
        NmfResult& result = results[run];
        result.iterations = iteration;
        result.w = runWt.t().to(torch::kFloat64).contiguous();
        result.h = runH.to(torch::kFloat64);
        result.error = (x64 - torch::mm(result.w, result.h)).norm().item<double>();
    };
    // H Xᵀ and H Hᵀ of the current H (the W step's inputs); the error check reuses them.
    torch::Tensor hx, hh;
    auto productsOfH = [&](int64_t s) {
        hx = torch::mm(h.view({s * k, -1}), x.t()).view({s, k, -1}).contiguous();
        hh = torch::bmm(h, h.transpose(1, 2)).contiguous();
    };
    int iteration = 0;
    while (!active.empty() && iteration < options.maxIterations) {
        ++iteration;
        const auto s = static_cast<int64_t>(active.size());
        // W step as the H step of the transposed problem Xᵀ ≈ Hᵀ Wᵀ: H Xᵀ and H Hᵀ.
        if (!hx.defined()) productsOfH(s);
        for (int64_t a = 0; a < s; ++a) sweepRows(wt[a], hh[a], hx[a]);
        // H step: Wᵀ X and WᵀW.
        const torch::Tensor wx = torch::mm(wt.view({s * k, -1}), x).view({s, k, -1});
        const torch::Tensor ww = torch::bmm(wt, wt.transpose(1, 2)).contiguous();
        for (int64_t a = 0; a < s; ++a) sweepRows(h[a], ww[a], wx[a]);
        hx = hh = torch::Tensor();  // H changed
        const bool last = iteration == options.maxIterations;
        if (iteration % 10 != 0 && !last) continue;
        if (checkCancel) checkCancel();
        // ‖X − WH‖² = ‖X‖² − 2·tr(Wᵀ X Hᵀ) + tr(WᵀW · HHᵀ), with this iteration's W and H.
        productsOfH(s);
        const torch::Tensor cross = (wt.to(torch::kFloat64) * hx.to(torch::kFloat64)).sum({1, 2});
        const torch::Tensor quad = (ww.to(torch::kFloat64) * hh.to(torch::kFloat64)).sum({1, 2});
        std::vector<int64_t> keep;
        for (int64_t a = 0; a < s; ++a) {
            Progress& p = progress[active[static_cast<size_t>(a)]];
            const double error =
                std::sqrt(std::max(0.0, xNormSq - 2 * cross[a].item<double>() + quad[a].item<double>()));
            if (p.initial < 0) p.initial = error;
            const bool converged =
                p.previous >= 0 && (p.previous - error) / std::max(p.initial, 1e-300) < options.tolerance;
            p.previous = error;
            if (converged || last)
                finish(active[static_cast<size_t>(a)], wt[a], h[a], iteration);
            else
                keep.push_back(a);
        }
        if (static_cast<int64_t>(keep.size()) == s) continue;
        std::vector<size_t> going;
        for (int64_t a : keep) going.push_back(active[static_cast<size_t>(a)]);
        active = std::move(going);
        if (!active.empty()) {
            const torch::Tensor index = torch::tensor(keep);
            wt = wt.index_select(0, index).contiguous();
            h = h.index_select(0, index).contiguous();
            hx = hx.index_select(0, index).contiguous();
            hh = hh.index_select(0, index).contiguous();
        }
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
    return factoriseRuns(x, starts, options, checkCancel);
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
