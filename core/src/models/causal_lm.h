#pragma once
// CausalLm — the torch-side interface every language-model family implements. The analysis
// engine (saliency, lens, factors) works only through it, so each family is written once.
// Shapes: word embeddings [B, T, D]; logits [B, T, V]. Thread safety: forward passes are const
// but share the model's weights; run them from one thread at a time.
#include "models/activation_editor.h"
#include "spyglass/language_model.h"

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace spyglass::core {

// Per-layer keys and values of earlier positions, for incremental decoding.
struct KvCache {
    std::vector<torch::Tensor> keys;  // per layer [B, H, S, hd]
    std::vector<torch::Tensor> values;
    int64_t length = 0;  // positions already cached

    // Prepends the cached keys/values of `layer` to k and v ([B, heads, T, hd]) and stores the result.
    void extend(int layer, torch::Tensor& k, torch::Tensor& v)
    {
        if (keys.size() <= static_cast<size_t>(layer)) {
            keys.resize(static_cast<size_t>(layer) + 1);
            values.resize(static_cast<size_t>(layer) + 1);
        }
        auto& cachedKeys = keys[static_cast<size_t>(layer)];
        auto& cachedValues = values[static_cast<size_t>(layer)];
        if (cachedKeys.defined()) {
            k = torch::cat({cachedKeys, k}, 2);
            v = torch::cat({cachedValues, v}, 2);
        }
        cachedKeys = k;
        cachedValues = v;
    }
};

// Activations captured during a forward pass, by trace name ("resid_pre.0", …), batch kept.
struct ActivationCapture {
    uint32_t kinds = 0;
    std::map<std::string, torch::Tensor> tensors;

    [[nodiscard]] bool wants(CaptureKind kind) const { return (kinds & kind) != 0; }
    void put(const std::string& name, const torch::Tensor& t) { tensors[name] = t; }
};

struct ForwardOptions {
    int64_t startPosition = 0;                 // absolute position of the first input (with a cache)
    KvCache* cache = nullptr;                  // read and extended when given
    ActivationCapture* capture = nullptr;      // filled when given
    bool lastLogitsOnly = false;               // compute logits only for the last position
    const ActivationEditor* editor = nullptr;  // this pass only, after the model's own (setEditor)
};

class CausalLm {
public:
    virtual ~CausalLm() = default;
    [[nodiscard]] virtual const ModelInfo& info() const = 0;
    [[nodiscard]] virtual torch::Device device() const = 0;
    // Word (token) embeddings only; positions are added inside forwardEmbeddings.
    [[nodiscard]] virtual torch::Tensor embedTokens(const torch::Tensor& ids) const = 0;
    [[nodiscard]] virtual torch::Tensor forwardEmbeddings(const torch::Tensor& wordEmbeddings,
                                                          const ForwardOptions& options) const = 0;
    // The model's final norm and unembedding, for lens read-outs of intermediate residuals.
    [[nodiscard]] virtual torch::Tensor finalNorm(const torch::Tensor& residual) const = 0;
    [[nodiscard]] virtual torch::Tensor unembed(const torch::Tensor& normed) const = 0;
    // unembed() of the vocabulary entries [begin, begin + out.size(0)) only, transposed and written
    // into `out` ([count, R], contiguous, on the model's device): normed [R, D]. In this layout the
    // matmul of a vocabulary slice runs near the BLAS peak (the [R, V] one ran at 60% of it: its
    // output rows are V floats apart).
    virtual void unembedTransposed(const torch::Tensor& normed, int64_t begin, torch::Tensor& out) const = 0;
    // The MLP down-projection of `layer` as an [F, D] matrix (mlp_act · W = the MLP's output
    // before its bias), for reading what a neuron direction writes into the residual stream.
    [[nodiscard]] virtual torch::Tensor mlpDownProjection(int layer) const = 0;

    [[nodiscard]] torch::Tensor forward(const torch::Tensor& ids, const ForwardOptions& options) const
    {
        return forwardEmbeddings(embedTokens(ids), options);
    }

    // Edits every later forward pass (the model's interventions); null: none.
    void setEditor(std::shared_ptr<const ActivationEditor> editor) { m_editor = std::move(editor); }
    [[nodiscard]] const std::shared_ptr<const ActivationEditor>& editor() const { return m_editor; }

protected:
    // What the families call at each site: the model's editor, then the pass's.
    [[nodiscard]] torch::Tensor edited(EditSite site, int layer, torch::Tensor x, const ForwardOptions& options) const
    {
        if (m_editor && m_editor->edits(site, layer)) x = m_editor->edit(site, layer, x, options.startPosition);
        if (options.editor && options.editor->edits(site, layer))
            x = options.editor->edit(site, layer, x, options.startPosition);
        return x;
    }

private:
    std::shared_ptr<const ActivationEditor> m_editor;
};

}  // namespace spyglass::core
