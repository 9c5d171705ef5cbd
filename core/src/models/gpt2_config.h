#pragma once
// Gpt2Config — the fields of a Hugging Face GPT-2 config.json, validated.
// Thread safety: a value type.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace spyglass::core {

struct Gpt2Config {
    int layerCount = 0;     // n_layer
    int headCount = 0;      // n_head
    int width = 0;          // n_embd
    int innerWidth = 0;     // n_inner (null → 4 · n_embd)
    int vocabSize = 0;      // vocab_size
    int contextLength = 0;  // n_positions (or n_ctx)
    double layerNormEpsilon = 1e-5;
    std::string activation = "gelu_new";
    bool tiedEmbeddings = true;
    bool scaleAttnWeights = true;
    bool scaleAttnByInverseLayerIdx = false;
    std::optional<int> eosId;
    std::optional<int> bosId;

    // Throws Error("<file>: …") naming the key and the reason.
    static Gpt2Config fromJson(const nlohmann::json& json, const std::filesystem::path& file);
};

}  // namespace spyglass::core
