#include "models/rotary_config.h"

#include "spyglass/error.h"

#include <cmath>

namespace spyglass::core {

namespace {

int positive(const nlohmann::json& j, const char* key, const std::string& where)
{
    if (!j.contains(key) || j[key].is_null()) throw Error(where + ": missing key \"" + key + "\"");
    if (!j[key].is_number_integer() || j[key].get<int64_t>() <= 0 || j[key].get<int64_t>() > (1ll << 30))
        throw Error(where + ": \"" + key + "\" must be a positive integer (got " + j[key].dump() + ")");
    return j[key].get<int>();
}

// A positive number, or 0 when the key is absent or null.
double optionalPositive(const nlohmann::json& j, const char* key, const std::string& where)
{
    if (!j.contains(key) || j[key].is_null()) return 0;
    if (!j[key].is_number() || !(j[key].get<double>() > 0))
        throw Error(where + ": \"" + key + "\" must be a positive number (got " + j[key].dump() + ")");
    return j[key].get<double>();
}

std::optional<int> id(const nlohmann::json& j, const char* key)
{
    if (j.contains(key) && j[key].is_number_integer()) return j[key].get<int>();
    return std::nullopt;
}

}  // namespace

static RotaryConfig parseRotaryConfig(const nlohmann::json& j, const std::filesystem::path& file,
                                      const std::string& family)
{
    const std::string where = file.string();
    RotaryConfig c;
    c.family = family;
    c.layerCount = positive(j, "num_hidden_layers", where);
    c.width = positive(j, "hidden_size", where);
    c.headCount = positive(j, "num_attention_heads", where);
    c.mlpWidth = positive(j, "intermediate_size", where);
    c.vocabSize = positive(j, "vocab_size", where);
    c.contextLength = positive(j, "max_position_embeddings", where);
    c.kvHeadCount = j.contains("num_key_value_heads") && !j["num_key_value_heads"].is_null()
                        ? positive(j, "num_key_value_heads", where)
                        : c.headCount;
    c.headWidth =
        j.contains("head_dim") && !j["head_dim"].is_null() ? positive(j, "head_dim", where) : c.width / c.headCount;
    if (!j.contains("head_dim") && c.width % c.headCount != 0)
        throw Error(where + ": hidden_size (" + std::to_string(c.width) +
                    ") is not divisible by num_attention_heads (" + std::to_string(c.headCount) + ")");
    if (c.headCount % c.kvHeadCount != 0)
        throw Error(where + ": num_attention_heads (" + std::to_string(c.headCount) +
                    ") is not a multiple of num_key_value_heads (" + std::to_string(c.kvHeadCount) + ")");
    c.eosId = id(j, "eos_token_id");
    c.bosId = id(j, "bos_token_id");
    if (family == "gpt_neox") {
        c.rmsNorm = false;
        c.normEpsilon = j.value("layer_norm_eps", 1e-5);
        c.ropeTheta = j.value("rotary_emb_base", 10000.0);
        const double pct = j.value("rotary_pct", 0.25);
        if (!(pct > 0 && pct <= 1)) throw Error(where + ": \"rotary_pct\" must be in (0, 1]");
        c.rotaryDims = static_cast<int>(c.headWidth * pct);
        c.parallelResidual = j.value("use_parallel_residual", true);
        c.gatedMlp = false;
        c.activation = j.value("hidden_act", "gelu");
        c.qkvBias = c.outputBias = c.mlpBias = true;
        c.tiedEmbeddings = j.value("tie_word_embeddings", false);
    } else {
        c.normEpsilon = j.value("rms_norm_eps", 1e-6);
        c.ropeTheta = j.value("rope_theta", 10000.0);
        c.activation = j.value("hidden_act", "silu");
        c.qkvBias = family == "qwen2" || j.value("attention_bias", false);
        c.outputBias = j.value("attention_bias", false);
        c.tiedEmbeddings = j.value("tie_word_embeddings", false);
        const bool gemma = family == "gemma" || family == "gemma2";
        if (gemma) {
            // transformers' Gemma classes read hidden_activation (hidden_act is the original
            // checkpoints' "gelu", which they override with the tanh approximation).
            c.activation = j.contains("hidden_activation") && j["hidden_activation"].is_string()
                               ? j["hidden_activation"].get<std::string>()
                               : std::string("gelu_pytorch_tanh");
            c.scaleEmbeddings = true;
            // Weights converted by llama.cpp already hold 1 + w (models/gguf_model_source.h).
            c.normPlusOne = !j.value(kNormGainIncludesOneKey, false);
            c.tiedEmbeddings = j.value("tie_word_embeddings", true);
        }
        if (family == "gemma2") {
            c.sandwichNorms = true;
            c.slidingEvenLayersOnly = true;
            c.attentionSoftcap = optionalPositive(j, "attn_logit_softcapping", where);
            c.finalSoftcap = optionalPositive(j, "final_logit_softcapping", where);
            const double scalar = optionalPositive(j, "query_pre_attn_scalar", where);
            if (scalar > 0) c.attentionScale = 1.0 / std::sqrt(scalar);
        }
        if (family == "phi3") {
            c.fusedProjections = true;
            if (j.contains("partial_rotary_factor") && j["partial_rotary_factor"].is_number() &&
                j["partial_rotary_factor"].get<double>() != 1.0)
                throw Error(where + ": partial_rotary_factor " + j["partial_rotary_factor"].dump() +
                            " is not supported for phi3 (supported: 1.0)");
        }
        c.qkNorm = family == "qwen3";
        const bool windowed = family == "mistral" || family == "phi3" || family == "gemma2" ||
                              ((family == "qwen2" || family == "qwen3") && j.value("use_sliding_window", false));
        if (windowed && j.contains("sliding_window") && j["sliding_window"].is_number_integer())
            c.slidingWindow = positive(j, "sliding_window", where);
        c.rotaryDims = c.headWidth;
    }
    if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) {
        const auto& s = j["rope_scaling"];
        const std::string type = s.value("type", s.value("rope_type", std::string()));
        if (type != "linear")
            throw Error(where + ": rope_scaling type '" + type + "' is not supported (supported: linear)");
        c.ropeScale = s.value("factor", 1.0);
        if (!(c.ropeScale > 0)) throw Error(where + ": rope_scaling factor must be positive");
    }
    if (c.rotaryDims % 2 != 0)
        throw Error(where + ": the rotated dimensions per head (" + std::to_string(c.rotaryDims) + ") must be even");
    static const char* const kActivations[] = {"silu",      "swish", "gelu", "gelu_new", "gelu_pytorch_tanh",
                                               "gelu_fast", "relu"};
    bool known = false;
    for (const char* a : kActivations) known = known || c.activation == a;
    if (!known) throw Error(where + ": hidden_act '" + c.activation + "' is not supported");
    return c;
}

RotaryConfig RotaryConfig::fromJson(const nlohmann::json& j, const std::filesystem::path& file,
                                    const std::string& family)
{
    try {
        return parseRotaryConfig(j, file, family);
    } catch (const nlohmann::json::exception& e) {
        throw Error(file.string() + ": a value has the wrong type (" + e.what() + ")");
    }
}

}  // namespace spyglass::core
