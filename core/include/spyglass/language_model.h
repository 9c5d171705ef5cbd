#pragma once
// LanguageModel — a causal language model loaded from a Hugging Face folder, with generation and
// activation capture. The torch-free face of the engine: results are plain value types.
//
//   auto model = LanguageModel::load("models/gpt2", {.device = "cpu"});
//   auto ids = model->encode("1, 2, 3,");
//   GenerationResult r = model->generate(ids, {.maxNewTokens = 8});
//   auto acts = model->trace(ids, kCaptureAll);     // "resid_pre.0", "attn_pattern.1", "logits", …
//
// Thread safety: one thread at a time per model (the app's inference thread owns it). Grad and
// inference-mode guards are set inside each call, on the calling thread.
#include "spyglass/host_tensor.h"
#include "spyglass/intervention.h"
#include "spyglass/progress.h"
#include "spyglass/tokenizer.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spyglass::core {

struct LoadOptions {
    std::string device = "cpu";       // "cpu", "cuda" or "cuda:N"
    std::filesystem::path tokenizer;  // llama2.c: tokenizer.bin to use (default: one beside the checkpoint)
};

struct ModelInfo {
    std::filesystem::path path;
    std::string architecture;  // "gpt2"
    int layerCount = 0;
    int headCount = 0;
    int modelWidth = 0;  // d_model
    int mlpWidth = 0;    // neurons per MLP (input width of the down-projection)
    int vocabSize = 0;
    int contextLength = 0;
    std::optional<int> eosId;
    std::optional<int> bosId;
    std::string device;
    std::string sha256;  // of the weight files as loaded (.safetensors in name order, or the llama2.c checkpoint)
};

struct SamplingOptions {
    int maxNewTokens = 20;
    float temperature = 0.0F;  // 0: greedy (argmax)
    int topK = 0;              // 0: off
    float topP = 1.0F;         // 1: off
    uint64_t seed = 0;
    bool stopAtEos = true;
    bool useKvCache = true;
};

struct GenerationResult {
    std::vector<int> promptIds;
    std::vector<int> generatedIds;
    bool stoppedAtEos = false;
    bool stoppedAtContextLimit = false;
};

// What trace() captures (bit flags).
enum CaptureKind : uint32_t {
    kCaptureResidPre = 1u << 0,
    kCaptureAttnOut = 1u << 1,
    kCaptureAttnPattern = 1u << 2,
    kCaptureMlpAct = 1u << 3,
    kCaptureMlpOut = 1u << 4,
    kCaptureResidPost = 1u << 5,
    kCaptureFinalNorm = 1u << 6,
    kCaptureLogits = 1u << 7,
    kCaptureAll = 0xFFu,
    // Not part of kCaptureAll: only the last query row of each layer's pattern, "attn_last_row.i"
    // [H, T] (what attentionRow() reads; no T × T pattern is kept).
    kCaptureAttnLastRow = 1u << 8,
};

class LanguageModelImpl;

class LanguageModel {
public:
    // Throws Error naming the folder/file and the reason.
    static std::unique_ptr<LanguageModel> load(const std::filesystem::path& path, const LoadOptions& options = {});
    ~LanguageModel();

    [[nodiscard]] const ModelInfo& info() const;
    // nullptr when the folder has no tokenizer files (the model then runs on ids).
    [[nodiscard]] const Tokenizer* tokenizer() const;
    // Tokenizes with the model's tokenizer; throws Error when there is none.
    [[nodiscard]] std::vector<int> encode(const std::string& text) const;

    // Throws Error when the prompt is empty, holds ids outside the vocabulary, or is longer than
    // the context window; Cancelled when `progress` returns false. `onToken` sees each new id.
    GenerationResult generate(const std::vector<int>& promptIds, const SamplingOptions& options,
                              const ProgressCallback& progress = {}, const std::function<void(int)>& onToken = {});

    // One forward pass over `ids` capturing the requested activations, named as in the trace
    // file format: resid_pre.i, attn_out.i, attn_pattern.i [H,T,T], mlp_act.i [T,F], mlp_out.i,
    // resid_post.i, final_norm_out, logits [T,V].
    [[nodiscard]] std::map<std::string, HostTensor> trace(const std::vector<int>& ids, uint32_t kinds = kCaptureAll);

    // The attention of the token at `position` over positions 0 … position, per layer and head:
    // [layers, heads, position + 1] (softmax weights; one forward pass over ids[0 … position]).
    // The model's interventions apply. Throws Error for a position outside the ids.
    [[nodiscard]] HostTensor attentionRow(const std::vector<int>& ids, int position);

    // Interventions applied by every later call (generate, trace, the analyses) until replaced;
    // empty: none. Throws OptionError (nothing changed) when one does not fit the model.
    void setInterventions(std::vector<Intervention> interventions);
    [[nodiscard]] const std::vector<Intervention>& interventions() const;

    // The torch side of the model, for the analysis engine inside spyglass_core.
    [[nodiscard]] LanguageModelImpl& impl() { return *m_impl; }

private:
    explicit LanguageModel(std::unique_ptr<LanguageModelImpl> impl);
    std::unique_ptr<LanguageModelImpl> m_impl;
};

}  // namespace spyglass::core
