#include "analysis/logit_lens.h"

#include "analysis/vocabulary_readout.h"

#include "spyglass/error.h"

namespace spyglass::core {

namespace {

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

// The rows the lens reads ([layers · T, D], layer-major): through the final norm unless raw.
torch::Tensor lensRows(const CausalLm& model, const std::vector<torch::Tensor>& residuals, LensMode mode)
{
    const torch::Tensor stacked = torch::cat(residuals);
    return mode != LensMode::Raw ? model.finalNorm(stacked) : stacked;
}

}  // namespace

std::vector<LensCell> computeLensColumn(const CausalLm& model, const ActivationCapture& capture, int64_t position,
                                        int nextId, LensMode mode, int topK, std::vector<std::string>& layers)
{
    c10::InferenceMode guard;
    layers.clear();
    std::vector<torch::Tensor> residuals = lensResiduals(model, capture, mode, layers);
    for (auto& r : residuals) r = r.narrow(0, position, 1);
    return readVocabulary(model, lensRows(model, residuals, mode), std::vector<int>(residuals.size(), nextId),
                          std::min(topK, model.info().vocabSize));
}

LensSection computeLogitLens(const CausalLm& model, const ActivationCapture& capture, const torch::Tensor& lastLogits,
                             const std::vector<int>& ids, LensMode mode, int topK)
{
    c10::InferenceMode guard;
    const int layers = model.info().layerCount;
    LensSection lens;
    lens.mode = mode;
    lens.topK = std::min(topK, model.info().vocabSize);
    const std::vector<torch::Tensor> residuals = lensResiduals(model, capture, mode, lens.layers);
    const size_t length = ids.size();
    std::vector<int> nextIds;
    for (size_t l = 0; l < residuals.size(); ++l) {
        nextIds.insert(nextIds.end(), ids.begin() + 1, ids.end());
        nextIds.push_back(-1);
    }
    // Every layer × position in blocks of rows, the unembedding read once per block (not once per
    // layer) and no [positions × vocabulary] softmax materialised.
    std::vector<LensCell> cells = readVocabulary(model, lensRows(model, residuals, mode), nextIds, lens.topK);
    for (size_t l = 0; l < residuals.size(); ++l)
        lens.cells.emplace_back(std::make_move_iterator(cells.begin() + static_cast<std::ptrdiff_t>(l * length)),
                                std::make_move_iterator(cells.begin() + static_cast<std::ptrdiff_t>((l + 1) * length)));
    // The last block read out as the lens reads it, against the model's own last logits.
    const torch::Tensor last = capture.tensors.at("resid_post." + std::to_string(layers - 1))[0][-1];
    lens.selfCheckMaxAbsDiff = (model.unembed(model.finalNorm(last)) - lastLogits).abs().max().item<double>();
    return lens;
}

}  // namespace spyglass::core
