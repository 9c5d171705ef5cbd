#include "image/nn_layers.h"

#include "models/torch_weights.h"

#include <algorithm>
#include <cmath>

namespace spyglass::core {

torch::Tensor Weights::operator()(const std::string& name, const std::vector<int64_t>& shape) const
{
    const std::string full = m_prefix + name;
    if (!m_parameters) return loadWeight(*m_store, full, shape, m_device);
    torch::Tensor t;
    if (m_store && !m_parameters->create) {
        t = loadWeight(*m_store, full, shape, m_device).clone();
    } else {
        const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(m_device);
        const bool bias = full.size() >= 5 && full.compare(full.size() - 5, 5, ".bias") == 0;
        if (bias) {
            t = torch::zeros(shape, options);
        } else if (shape.size() == 1) {
            t = torch::ones(shape, options);  // norm gains
        } else if (full.find("embedding") != std::string::npos) {
            t = torch::randn(shape, options) * 0.02;
        } else {
            int64_t fanIn = 1;
            for (size_t i = 1; i < shape.size(); ++i) fanIn *= shape[i];
            const double bound = 1.0 / std::sqrt(static_cast<double>(fanIn));
            t = torch::rand(shape, options) * (2 * bound) - bound;
        }
    }
    t.requires_grad_(true);
    m_parameters->tensors.emplace_back(full, t);
    return t;
}

Linear::Linear(const Weights& w, int64_t in, int64_t out, bool withBias) : weight(w("weight", {out, in}))
{
    if (withBias) bias = w("bias", {out});
}

Conv2d::Conv2d(const Weights& w, int64_t in, int64_t out, int64_t kernel, int64_t stride_, int64_t padding_)
    : weight(w("weight", {out, in, kernel, kernel})), bias(w("bias", {out})), stride(stride_), padding(padding_)
{
}

GroupNorm::GroupNorm(const Weights& w, int64_t groups_, int64_t channels, double eps_)
    : weight(w("weight", {channels})), bias(w("bias", {channels})), groups(groups_), eps(eps_)
{
}

LayerNorm::LayerNorm(const Weights& w, int64_t width_, double eps_)
    : weight(w("weight", {width_})), bias(w("bias", {width_})), width(width_), eps(eps_)
{
}

torch::Tensor scaledAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale,
                              torch::Tensor* probs)
{
    const int64_t batch = q.size(0), queries = q.size(1), keys = k.size(1);
    const bool training =
        torch::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
    if (training)
        return torch::bmm(
            torch::baddbmm(torch::empty({batch, queries, keys}, q.options()), q, k.transpose(1, 2), 0, scale)
                .softmax(-1),
            v);
    if (probs) {
        *probs = torch::baddbmm(torch::empty({batch, queries, keys}, q.options()), q, k.transpose(1, 2), /*beta=*/0,
                                /*alpha=*/scale)
                     .softmax(-1);
        return torch::bmm(*probs, v);
    }
    // Scores go into one reused buffer and the softmax runs in place: fresh 100 MB allocations
    // (page faults) cost more than the arithmetic here (measured 3x on the tiny UNet).
    constexpr int64_t kBudget = int64_t{32} << 20;  // floats per slice (128 MB)
    const int64_t perSlice = std::clamp<int64_t>(kBudget / std::max<int64_t>(1, queries * keys), 1, batch);
    thread_local torch::Tensor scratch;
    const int64_t need = perSlice * queries * keys;
    if (!scratch.defined() || scratch.numel() < need || scratch.device() != q.device() || scratch.dtype() != q.dtype())
        scratch = torch::empty({need}, q.options());
    std::vector<torch::Tensor> outs;
    for (int64_t begin = 0; begin < batch; begin += perSlice) {
        const int64_t end = std::min(batch, begin + perSlice);
        torch::Tensor scores = scratch.narrow(0, 0, (end - begin) * queries * keys).view({end - begin, queries, keys});
        at::baddbmm_out(scores, scores, q.slice(0, begin, end), k.slice(0, begin, end).transpose(1, 2), /*beta=*/0,
                        /*alpha=*/scale);
        at::_softmax_out(scores, scores, -1, false);
        outs.push_back(torch::bmm(scores, v.slice(0, begin, end)));
    }
    return outs.size() == 1 ? outs.front() : torch::cat(outs, 0);
}

torch::Tensor headsToBatch(const torch::Tensor& x, int64_t heads)
{
    const int64_t b = x.size(0), t = x.size(1), d = x.size(2) / heads;
    return x.reshape({b, t, heads, d}).permute({0, 2, 1, 3}).reshape({b * heads, t, d});
}

torch::Tensor batchToHeads(const torch::Tensor& x, int64_t heads)
{
    const int64_t bh = x.size(0), t = x.size(1), d = x.size(2);
    return x.reshape({bh / heads, heads, t, d}).permute({0, 2, 1, 3}).reshape({bh / heads, t, heads * d});
}

}  // namespace spyglass::core
