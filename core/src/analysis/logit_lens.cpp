#include "analysis/logit_lens.h"

#include "spyglass/error.h"

namespace spyglass::core {

namespace {

std::vector<LensCell> readOut(const torch::Tensor& z, const std::vector<int>& ids, int topK)
{
    // z: [T, V] logits of one layer.
    const int64_t length = z.size(0);
    const torch::Tensor logProbs = torch::log_softmax(z.to(torch::kFloat64), -1);
    const torch::Tensor probs = logProbs.exp();
    const torch::Tensor entropy = -(probs * logProbs).sum(-1).to(torch::kCPU);
    const auto [topProbs, topIds] = probs.topk(topK, -1);
    const torch::Tensor topProbsCpu = topProbs.to(torch::kCPU).contiguous();
    const torch::Tensor topIdsCpu = topIds.to(torch::kCPU).contiguous();
    std::vector<LensCell> cells(static_cast<size_t>(length));
    for (int64_t p = 0; p < length; ++p) {
        LensCell& cell = cells[static_cast<size_t>(p)];
        for (int k = 0; k < topK; ++k) {
            cell.topIds.push_back(static_cast<int>(topIdsCpu[p][k].item<int64_t>()));
            cell.topProbs.push_back(static_cast<float>(topProbsCpu[p][k].item<double>()));
        }
        cell.entropy = static_cast<float>(entropy[p].item<double>());
        if (p + 1 < length) {
            const int next = ids[static_cast<size_t>(p + 1)];
            const torch::Tensor row = z[p];
            cell.nextRank = 1 + static_cast<int>((row > row[next]).sum().item<int64_t>());
            cell.nextProb = static_cast<float>(probs[p][next].item<double>());
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
    auto add = [&](const std::string& name, const torch::Tensor& residual) {
        const torch::Tensor h = residual.select(0, 0);  // [T, D]
        lens.layers.push_back(name);
        lens.cells.push_back(readOut(model.unembed(norm ? model.finalNorm(h) : h), ids, lens.topK));
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
    const torch::Tensor last = capture.tensors.at("resid_post." + std::to_string(layers - 1)).select(0, 0);
    lens.selfCheckMaxAbsDiff = (model.unembed(model.finalNorm(last)) - logits).abs().max().item<double>();
    return lens;
}

}  // namespace spyglass::core
