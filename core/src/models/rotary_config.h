#pragma once
// RotaryConfig — config.json of the rotary-embedding decoder families: Llama (and Mistral,
// Qwen2, which share its layout), GPT-NeoX (Pythia), Gemma, Gemma 2, Phi-3 and Qwen3. Validated,
// with the family's defaults; each family's difference from Llama is a field here.
// Thread safety: a value type.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace spyglass::core {

// Set (true) in a config synthesized from a GGUF whose RMSNorm weights already hold Gemma's 1 + w.
inline constexpr const char* kNormGainIncludesOneKey = "spyglass_norm_gain_includes_one";

struct RotaryConfig {
    std::string family;  // llama | mistral | qwen2 | gpt_neox | gemma | gemma2 | phi3 | qwen3
    int layerCount = 0, width = 0, headCount = 0, kvHeadCount = 0, headWidth = 0, mlpWidth = 0, vocabSize = 0,
        contextLength = 0;
    double normEpsilon = 1e-5;
    bool rmsNorm = true;  // Llama family; NeoX uses LayerNorm with bias
    double ropeTheta = 10000.0;
    double ropeScale = 1.0;           // rope_scaling {"type": "linear", "factor": s}: positions divided by s
    int rotaryDims = 0;               // rotated dims per head (NeoX: head_dim · rotary_pct)
    bool parallelResidual = false;    // NeoX use_parallel_residual
    bool gatedMlp = true;             // SwiGLU (gate, up, down) vs two-layer MLP
    std::string activation = "silu";  // hidden_act
    bool qkvBias = false;             // Qwen2 (and Llama attention_bias)
    bool outputBias = false;          // o_proj bias (Llama attention_bias; NeoX always)
    bool mlpBias = false;             // NeoX
    bool tiedEmbeddings = false;
    std::optional<int> slidingWindow;    // Mistral, Phi-3 (every layer); Gemma 2 (even layers only)
    bool slidingEvenLayersOnly = false;  // Gemma 2: layers 0, 2, … slide; odd layers are global
    bool normPlusOne = false;            // Gemma: RMSNorm scales by (1 + w)
    bool scaleEmbeddings = false;        // Gemma: embeddings × float32(√hidden_size)
    double attentionScale = 0;           // scores × this (0: head_dim^−½; Gemma 2: query_pre_attn_scalar^−½)
    double attentionSoftcap = 0;         // Gemma 2: scores → tanh(s / cap) · cap before the mask (0: none)
    double finalSoftcap = 0;             // Gemma 2: logits → tanh(z / cap) · cap (0: none)
    bool sandwichNorms = false;          // Gemma 2: RMSNorm on the attention and MLP outputs too
    bool fusedProjections = false;       // Phi-3: qkv_proj [q | k | v] and gate_up_proj [gate | up]
    bool qkNorm = false;                 // Qwen3: RMSNorm over each head's q and k before RoPE
    std::optional<int> eosId, bosId;

    static RotaryConfig fromJson(const nlohmann::json& json, const std::filesystem::path& file,
                                 const std::string& family);
};

}  // namespace spyglass::core
