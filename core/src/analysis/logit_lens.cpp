#include "analysis/logit_lens.h"

#include "spyglass/error.h"

namespace spyglass::core {

namespace {

// nextIds[p]: the token that comes after position p, or −1 when none is known.
std::vector<LensCell> readOut(const torch::Tensor& z, const std::vector<int>& nextIds, int topK)
{
    // z: [T, V] logits of one layer; everything vectorised over positions.
    const int64_t length = z.size(0);
    const torch::Tensor logProbs = torch::log_softmax(z, -1);
    const torch::Tensor entropy = -(logProbs.exp() * logProbs).sum(-1).to(torch::kCPU, torch::kFloat64).contiguous();
    const auto [topLogProbs, topIds] = logProbs.topk(topK, -1);
    const torch::Tensor topProbsCpu = topLogProbs.to(torch::kFloat64).exp().to(torch::kCPU).contiguous();
    const torch::Tensor topIdsCpu = topIds.to(torch::kCPU).contiguous();
    std::vector<int64_t> safeNext;
    for (int id : nextIds) safeNext.push_back(std::max(id, 0));
    const torch::Tensor next = torch::tensor(safeNext).to(z.device()).view({-1, 1});
    const torch::Tensor ranks = (z > z.gather(1, next)).sum(-1).add(1).to(torch::kCPU).contiguous();
    const torch::Tensor nextProbs =
        logProbs.gather(1, next).to(torch::kFloat64).exp().view({-1}).to(torch::kCPU).contiguous();
    const auto topP = topProbsCpu.accessor<double, 2>();
    const auto topI = topIdsCpu.accessor<int64_t, 2>();
    const auto ent = entropy.accessor<double, 1>();
    std::vector<LensCell> cells(static_cast<size_t>(length));
    for (int64_t p = 0; p < length; ++p) {
        LensCell& cell = cells[static_cast<size_t>(p)];
        for (int k = 0; k < topK; ++k) {
            cell.topIds.push_back(static_cast<int>(topI[p][k]));
            cell.topProbs.push_back(static_cast<float>(topP[p][k]));
        }
        cell.entropy = static_cast<float>(ent[p]);
        if (nextIds[static_cast<size_t>(p)] >= 0) {
            cell.nextRank = static_cast<int>(ranks[p].item<int64_t>());
            cell.nextProb = static_cast<float>(nextProbs[p].item<double>());
        }
    }
    return cells;
}

// The residual streams the lens reads ([T, D] each, detached) and their layer names.
std::vector<torch::Tensor> lensResiduals(const CausalLm& model, const ActivationCapture& capture, LensMode mode,
                                         std::vector<std::string>& names)
{
    std::vector<torch::Tensor> residuals;
    auto add = [&](const std::string& name, const torch::Tensor& residual) {
        names.push_back(name);
        residuals.push_back(residual.detach().select(0, 0));
    };
    add("embed", capture.tensors.at("resid_pre.0"));
    for (int i = 0; i < model.info().layerCount; ++i) {
        const std::string index = std::to_string(i);
        if (mode == LensMode::Sublayer) {
            add("block." + index + ".attn",
                capture.tensors.at("resid_pre." + index) + capture.tensors.at("attn_out." + index));
            add("block." + index + ".mlp", capture.tensors.at("resid_post." + index));
        } else {
            add("block." + index, capture.tensors.at("resid_post." + index));
        }
    }
    return residuals;
}

// Every layer's read-out in one unembedding matmul: [layers, T, V].
torch::Tensor readOutLogits(const CausalLm& model, const std::vector<torch::Tensor>& residuals, LensMode mode)
{
    const torch::Tensor stacked = torch::stack(residuals);
    return model.unembed(mode != LensMode::Raw ? model.finalNorm(stacked) : stacked);
}

}  // namespace

std::vector<LensCell> computeLensColumn(const CausalLm& model, const ActivationCapture& capture, int64_t position,
                                        int nextId, LensMode mode, int topK, std::vector<std::string>& layers)
{
    c10::InferenceMode guard;
    layers.clear();
    std::vector<torch::Tensor> residuals = lensResiduals(model, capture, mode, layers);
    for (auto& r : residuals) r = r.narrow(0, position, 1);
    const torch::Tensor z = readOutLogits(model, residuals, mode);
    std::vector<LensCell> column;
    for (int64_t l = 0; l < z.size(0); ++l)
        column.push_back(readOut(z[l], {nextId}, std::min(topK, model.info().vocabSize)).front());
    return column;
}

LensSection computeLogitLens(const CausalLm& model, const ActivationCapture& capture, const torch::Tensor& logits,
                             const std::vector<int>& ids, LensMode mode, int topK)
{
    c10::InferenceMode guard;
    const int layers = model.info().layerCount;
    LensSection lens;
    lens.mode = mode;
    lens.topK = std::min(topK, model.info().vocabSize);
    const std::vector<torch::Tensor> residuals = lensResiduals(model, capture, mode, lens.layers);
    std::vector<int> nextIds(ids.begin() + 1, ids.end());
    nextIds.push_back(-1);
    // One layer's [T, V] logits at a time: all of them at once were 2.6 GB at 1,016 tokens (GPT-2
    // small), for the same matmul FLOPs.
    for (const torch::Tensor& residual : residuals)
        lens.cells.push_back(readOut(readOutLogits(model, {residual}, mode)[0], nextIds, lens.topK));
    const torch::Tensor last = capture.tensors.at("resid_post." + std::to_string(layers - 1)).select(0, 0);
    lens.selfCheckMaxAbsDiff = (model.unembed(model.finalNorm(last)) - logits).abs().max().item<double>();
    return lens;
}

}  // namespace spyglass::core
