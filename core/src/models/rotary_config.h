#pragma once
// RotaryConfig — config.json of the rotary-embedding decoder families: Llama (and Mistral,
// Qwen2, which share its layout) and GPT-NeoX (Pythia). Validated, with the family's defaults.
// Thread safety: a value type.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace spyglass::core {

struct RotaryConfig {
    std::string family;  // llama | mistral | qwen2 | gpt_neox
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
    std::optional<int> slidingWindow;  // Mistral
    std::optional<int> eosId, bosId;

    static RotaryConfig fromJson(const nlohmann::json& json, const std::filesystem::path& file,
                                 const std::string& family);
};

}  // namespace spyglass::core
