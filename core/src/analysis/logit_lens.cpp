#include "analysis/logit_lens.h"

#include "spyglass/error.h"

namespace spyglass::core {

namespace {

std::vector<LensCell> readOut(const torch::Tensor& z, const std::vector<int>& ids, int topK)
{
    // z: [T, V] logits of one layer; everything vectorised over positions.
    const int64_t length = z.size(0);
    const torch::Tensor logProbs = torch::log_softmax(z, -1);
    const torch::Tensor entropy = -(logProbs.exp() * logProbs).sum(-1).to(torch::kCPU, torch::kFloat64).contiguous();
    const auto [topLogProbs, topIds] = logProbs.topk(topK, -1);
    const torch::Tensor topProbsCpu = topLogProbs.to(torch::kFloat64).exp().to(torch::kCPU).contiguous();
    const torch::Tensor topIdsCpu = topIds.to(torch::kCPU).contiguous();
    torch::Tensor ranks, nextProbs;
    if (length > 1) {
        const torch::Tensor next = torch::tensor(std::vector<int64_t>(ids.begin() + 1, ids.begin() + length)).to(z.device()).view({-1, 1});
        const torch::Tensor head = z.narrow(0, 0, length - 1);
        ranks = (head > head.gather(1, next)).sum(-1).add(1).to(torch::kCPU).contiguous();
        nextProbs = logProbs.narrow(0, 0, length - 1).gather(1, next).to(torch::kFloat64).exp().view({-1}).to(torch::kCPU).contiguous();
    }
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
        if (p + 1 < length) {
            cell.nextRank = static_cast<int>(ranks[p].item<int64_t>());
            cell.nextProb = static_cast<float>(nextProbs[p].item<double>());
        }
    }
    return cells;
}

}  // namespace

LensSection computeLogitLens(const CausalLm& model, const ActivationCapture& capture, const torch::Tensor& logits,
                             const std::vector<int>& ids, const std::string& mode, int topK)
{
    if (mode != "normed" && mode != "raw" && mode != "sublayer")
        throw Error("--lens: unknown mode '" + mode + "' (normed, raw or sublayer)");
    c10::InferenceMode guard;
    const int layers = model.info().layerCount;
    const int vocab = model.info().vocabSize;
    LensSection lens;
    lens.mode = mode;
    lens.topK = std::min(topK, vocab);
    const bool norm = mode != "raw";
    std::vector<torch::Tensor> residuals;  // [T, D] per read-out layer
    auto add = [&](const std::string& name, const torch::Tensor& residual) {
        lens.layers.push_back(name);
        residuals.push_back(residual.select(0, 0));
    };
    add("embed", capture.tensors.at("resid_pre.0"));
    for (int i = 0; i < layers; ++i) {
        const std::string index = std::to_string(i);
        if (mode == "sublayer") {
            add("block." + index + ".attn", capture.tensors.at("resid_pre." + index) + capture.tensors.at("attn_out." + index));
            add("block." + index + ".mlp", capture.tensors.at("resid_post." + index));
        } else {
            add("block." + index, capture.tensors.at("resid_post." + index));
        }
    }
    // One unembedding matmul for every layer and position.
    const torch::Tensor stacked = torch::stack(residuals);  // [layers, T, D]
    const torch::Tensor z = model.unembed(norm ? model.finalNorm(stacked) : stacked);
    for (int64_t l = 0; l < z.size(0); ++l) lens.cells.push_back(readOut(z[l], ids, lens.topK));
    const torch::Tensor last = capture.tensors.at("resid_post." + std::to_string(layers - 1)).select(0, 0);
    lens.selfCheckMaxAbsDiff = (model.unembed(model.finalNorm(last)) - logits).abs().max().item<double>();
    return lens;
}

}  // namespace spyglass::core
