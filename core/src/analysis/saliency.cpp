#include "analysis/saliency.h"

#include "spyglass/error.h"

#include <ATen/VmapMode.h>

#include <algorithm>

#include <cmath>

namespace spyglass::core {

namespace {

torch::Tensor contextIds(const std::vector<int>& ids, const torch::Device& device)
{
    return torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kInt64).view({1, -1}).to(device);
}

bool has(const std::vector<SaliencyMethod>& methods, SaliencyMethod name)
{
    return std::find(methods.begin(), methods.end(), name) != methods.end();
}

}  // namespace

std::vector<float> normalisedShares(const torch::Tensor& v)
{
    const torch::Tensor c = v.detach().to(torch::kCPU, torch::kFloat64);
    const double sum = c.sum().item<double>();
    const int64_t n = c.numel();
    std::vector<float> out(static_cast<size_t>(n));
    const double* data = c.data_ptr<double>();
    for (int64_t i = 0; i < n; ++i)
        out[static_cast<size_t>(i)] =
            sum > 0 && std::isfinite(sum) ? static_cast<float>(data[i] / sum) : 1.0F / static_cast<float>(n);
    return out;
}

SaliencyEngine::SaliencyEngine(const CausalLm& model, const AnalysisOptions& options, std::function<void()> checkCancel)
    : m_model(model), m_options(options), m_checkCancel(std::move(checkCancel))
{
    m_needsGradient = has(options.saliencyMethods, SaliencyMethod::GradXInput) ||
                      has(options.saliencyMethods, SaliencyMethod::Gradient);
}

torch::Tensor SaliencyEngine::target(const torch::Tensor& lastLogits, int next) const
{
    // lastLogits [B, V] → [B]; contrastive: the difference to the contrast token's value.
    const torch::Tensor values =
        m_options.saliencyTarget == SaliencyTarget::Logit ? lastLogits : torch::softmax(lastLogits, -1);
    if (m_options.contrastWith) return values.select(-1, next) - values.select(-1, *m_options.contrastWith);
    return values.select(-1, next);
}

double SaliencyEngine::occlusionScore(const torch::Tensor& logProbs, int next) const
{
    // Occlusion compares log p(next), or log p(next) − log p(contrast) (= the logit difference).
    double score = logProbs[next].item<double>();
    if (m_options.contrastWith) score -= logProbs[*m_options.contrastWith].item<double>();
    return score;
}

torch::Tensor SaliencyEngine::targets(const torch::Tensor& logits, const torch::Tensor& next) const
{
    const torch::Tensor values =
        m_options.saliencyTarget == SaliencyTarget::Logit ? logits : torch::softmax(logits, -1);
    torch::Tensor chosen = values.gather(1, next.view({-1, 1})).view({-1});
    if (m_options.contrastWith) chosen = chosen - values.select(-1, *m_options.contrastWith);
    return chosen;
}

int64_t SaliencyEngine::targetsPerBackward(int64_t length) const
{
    // A batched backward holds, per target, about a layer's attention-score gradients
    // [heads, T, T] and MLP gradients [T, F] a few times over; keep the chunk near 256 MB.
    const ModelInfo& info = m_model.info();
    const double perTarget =
        4.0 * 4.0 *
        (static_cast<double>(info.headCount) * static_cast<double>(length) * static_cast<double>(length) +
         static_cast<double>(length) * static_cast<double>(std::max(info.mlpWidth, info.modelWidth)));
    return std::clamp<int64_t>(static_cast<int64_t>((256.0 * 1024 * 1024) / perTarget), 1, 16);
}

void SaliencyEngine::explain(const std::vector<int>& ids, int first, const RowsCallback& onRows,
                             ActivationCapture* capture, torch::Tensor* lastLogits) const
{
    const int count = static_cast<int>(ids.size()) - first;
    if (first < 1 || count < 1) throw Error("saliency needs a context before the first explained token");
    const torch::Device device = m_model.device();
    const int layers = m_model.info().layerCount;
    torch::AutoGradMode grad(m_needsGradient);
    // One forward over every position that is some target's context (the last token is none,
    // but the caller's capture wants it).
    const std::vector<int> inputs(ids.begin(), capture ? ids.end() : ids.end() - 1);
    torch::Tensor e = m_model.embedTokens(contextIds(inputs, device)).detach();
    if (m_needsGradient) e.requires_grad_(true);
    ActivationCapture own;
    ActivationCapture& captured = capture ? *capture : own;
    captured.kinds |= kCaptureResidPost;
    ForwardOptions forward;
    forward.lastLogitsOnly = true;
    forward.capture = &captured;
    const torch::Tensor last = m_model.forwardEmbeddings(e, forward);
    if (lastLogits) *lastLogits = last.detach()[0][0];
    // The logits that chose each target: the final residual at the position before it, read as
    // the forward pass reads its last position.
    const torch::Tensor finalResidual = captured.tensors.at("resid_post." + std::to_string(layers - 1))[0];
    const torch::Tensor logits = m_model.unembed(m_model.finalNorm(finalResidual.narrow(0, first - 1, count)));
    if (capture)
        for (auto& [name, tensor] : capture->tensors) tensor = tensor.detach();
    own.tensors.clear();
    const torch::Tensor logProbs = torch::log_softmax(logits.detach().to(torch::kFloat32), -1);
    const torch::Tensor embeddings = e.detach()[0];  // [T, D]
    const torch::Tensor next =
        torch::tensor(std::vector<int64_t>(ids.begin() + first, ids.end()), torch::kInt64).to(device);
    const torch::Tensor values = m_needsGradient ? targets(logits, next) : torch::Tensor();
    const int64_t chunk = targetsPerBackward(e.size(1));
    for (int begin = 0; begin < count; begin += static_cast<int>(chunk)) {
        m_checkCancel();
        const int size = std::min(static_cast<int>(chunk), count - begin);
        torch::Tensor gradient;  // [size, T, D]: row j is d values[begin + j] / d embeddings
        if (m_needsGradient) {
            // The backward of all `size` targets at once: their one-hot cotangents as one batched
            // tensor (vmap), so each weight is read once for the chunk, not once per target.
            const torch::Tensor cotangents =
                torch::eye(count, torch::TensorOptions().dtype(values.scalar_type()).device(device))
                    .narrow(0, begin, size);
            const bool more = begin + size < count;
            const int64_t level = at::impl::VmapMode::increment_nesting();
            try {
                const torch::Tensor batched = torch::autograd::grad(
                    {values}, {e}, {at::_add_batch_dim(cotangents, 0, level)}, /*retain_graph=*/more)[0];
                gradient = at::_remove_batch_dim(batched, level, size, 0).select(1, 0);
            } catch (...) {
                at::impl::VmapMode::decrement_nesting();
                throw;
            }
            at::impl::VmapMode::decrement_nesting();
        }
        torch::NoGradGuard noGrad;
        for (int j = 0; j < size; ++j) {
            const int target = begin + j;
            const int position = first + target;
            const int id = ids[static_cast<size_t>(position)];
            std::vector<SaliencyRow> rows;
            for (const auto& method : m_options.saliencyMethods) {
                SaliencyRow row;
                row.position = position;
                row.tokenId = id;
                switch (method) {
                    case SaliencyMethod::GradXInput:
                        row.scores = normalisedShares(
                            (gradient[j].narrow(0, 0, position) * embeddings.narrow(0, 0, position)).norm(2, -1));
                        break;
                    case SaliencyMethod::Gradient:
                        row.scores = normalisedShares(gradient[j].narrow(0, 0, position).norm(2, -1));
                        break;
                    case SaliencyMethod::IntegratedGradients:
                        integratedGradients(embeddings.narrow(0, 0, position), id, row);
                        break;
                    case SaliencyMethod::Occlusion:
                        occlusion({ids.begin(), ids.begin() + position}, id, occlusionScore(logProbs[target], id), row);
                        break;
                }
                rows.push_back(std::move(row));
            }
            onRows(position, std::move(rows));
        }
    }
}

void SaliencyEngine::integratedGradients(const torch::Tensor& embeddings, int next, SaliencyRow& row) const
{
    // Zero baseline, midpoint Riemann sum over `steps` points on the straight path.
    const int steps = m_options.integratedGradientSteps;
    torch::AutoGradMode grad(true);
    ForwardOptions forward;
    forward.lastLogitsOnly = true;
    torch::Tensor gradientSum = torch::zeros_like(embeddings);
    for (int begin = 0; begin < steps; begin += kIntegratedGradientBatch) {
        m_checkCancel();
        const int count = std::min(kIntegratedGradientBatch, steps - begin);
        const torch::Tensor alphas =
            (torch::arange(begin, begin + count,
                           torch::TensorOptions().dtype(torch::kFloat32).device(embeddings.device())) +
             0.5) /
            steps;
        torch::Tensor scaled = (alphas.view({-1, 1, 1}) * embeddings.unsqueeze(0)).detach().requires_grad_(true);
        const torch::Tensor last = m_model.forwardEmbeddings(scaled, forward).select(1, 0);  // [count, V]
        target(last, next).sum().backward();
        gradientSum += scaled.grad().sum(0);
    }
    const torch::Tensor attribution = embeddings * gradientSum / steps;
    row.scores = normalisedShares(attribution.norm(2, -1));
    torch::NoGradGuard noGrad;
    const torch::Tensor endpoints = torch::stack({embeddings, torch::zeros_like(embeddings)});
    const torch::Tensor values = target(m_model.forwardEmbeddings(endpoints, forward).select(1, 0), next);
    row.completenessGap = attribution.sum().item<double>() - (values[0] - values[1]).item<double>();
}

void SaliencyEngine::occlusion(const std::vector<int>& context, int next, double fullLogProb, SaliencyRow& row) const
{
    const int64_t length = static_cast<int64_t>(context.size());
    if (length == 1 && !m_options.occlusionReplace) {
        row.scores = {1.0F};
        row.raw = {0.0F};
        return;
    }
    const int neutral =
        m_options.occlusionToken.value_or(m_model.info().eosId.value_or(m_model.info().bosId.value_or(0)));
    std::vector<int64_t> batch;
    const int64_t width = m_options.occlusionReplace ? length : length - 1;
    for (int64_t i = 0; i < length; ++i)
        for (int64_t j = 0; j < length; ++j) {
            if (j == i && !m_options.occlusionReplace) continue;
            batch.push_back(j == i ? neutral : context[static_cast<size_t>(j)]);
        }
    c10::InferenceMode guard;
    ForwardOptions forward;
    forward.lastLogitsOnly = true;
    const torch::Tensor ids = torch::tensor(batch, torch::kInt64).view({length, width}).to(m_model.device());
    torch::Tensor logProbs = torch::empty({length});
    constexpr int64_t kChunk = 32;
    for (int64_t begin = 0; begin < length; begin += kChunk) {
        m_checkCancel();
        const int64_t count = std::min(kChunk, length - begin);
        const torch::Tensor last = m_model.forward(ids.narrow(0, begin, count), forward).select(1, 0);
        torch::Tensor scores = torch::log_softmax(last, -1);
        scores = m_options.contrastWith ? scores.select(-1, next) - scores.select(-1, *m_options.contrastWith)
                                        : scores.select(-1, next);
        logProbs.narrow(0, begin, count).copy_(scores.to(torch::kCPU));
    }
    const torch::Tensor delta = fullLogProb - logProbs.to(torch::kFloat64);
    row.raw.resize(static_cast<size_t>(length));
    for (int64_t i = 0; i < length; ++i) row.raw[static_cast<size_t>(i)] = static_cast<float>(delta[i].item<double>());
    row.scores = normalisedShares(delta.abs());
}

}  // namespace spyglass::core
