#include "models/gpt2_config.h"

#include "spyglass/error.h"

namespace spyglass::core {

namespace {

int positiveInt(const nlohmann::json& json, const char* key, const std::string& where)
{
    if (!json.contains(key) || json[key].is_null()) throw Error(where + ": missing key \"" + key + "\"");
    const auto& v = json[key];
    if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > (1ll << 30))
        throw Error(where + ": \"" + key + "\" must be a positive integer (got " + v.dump() + ")");
    return v.get<int>();
}

std::optional<int> optionalId(const nlohmann::json& json, const char* key)
{
    if (json.contains(key) && json[key].is_number_integer()) return json[key].get<int>();
    return std::nullopt;
}

}  // namespace

static Gpt2Config parseGpt2Config(const nlohmann::json& json, const std::filesystem::path& file)
{
    const std::string where = file.string();
    if (!json.is_object()) throw Error(where + ": not a JSON object");
    Gpt2Config c;
    c.layerCount = positiveInt(json, "n_layer", where);
    c.headCount = positiveInt(json, "n_head", where);
    c.width = positiveInt(json, "n_embd", where);
    c.vocabSize = positiveInt(json, "vocab_size", where);
    c.contextLength =
        json.contains("n_positions") ? positiveInt(json, "n_positions", where) : positiveInt(json, "n_ctx", where);
    c.innerWidth =
        json.contains("n_inner") && !json["n_inner"].is_null() ? positiveInt(json, "n_inner", where) : 4 * c.width;
    if (c.width % c.headCount != 0)
        throw Error(where + ": n_embd (" + std::to_string(c.width) + ") is not divisible by n_head (" +
                    std::to_string(c.headCount) + ")");
    if (json.contains("layer_norm_epsilon")) {
        if (!json["layer_norm_epsilon"].is_number() || json["layer_norm_epsilon"].get<double>() <= 0)
            throw Error(where + ": \"layer_norm_epsilon\" must be a positive number");
        c.layerNormEpsilon = json["layer_norm_epsilon"].get<double>();
    }
    if (json.contains("activation_function")) {
        c.activation = json["activation_function"].get<std::string>();
        static const char* const kKnown[] = {"gelu_new", "gelu", "gelu_fast", "gelu_pytorch_tanh",
                                             "relu",     "silu", "swish"};
        bool known = false;
        for (const char* k : kKnown) known = known || c.activation == k;
        if (!known)
            throw Error(where + ": activation_function '" + c.activation +
                        "' is not supported (gelu_new, gelu, gelu_fast, gelu_pytorch_tanh, relu, silu)");
    }
    c.tiedEmbeddings = json.value("tie_word_embeddings", true);
    c.scaleAttnWeights = json.value("scale_attn_weights", true);
    c.scaleAttnByInverseLayerIdx = json.value("scale_attn_by_inverse_layer_idx", false);
    c.eosId = optionalId(json, "eos_token_id");
    c.bosId = optionalId(json, "bos_token_id");
    if (c.eosId && (*c.eosId < 0 || *c.eosId >= c.vocabSize))
        throw Error(where + ": eos_token_id " + std::to_string(*c.eosId) + " is outside the vocabulary (" +
                    std::to_string(c.vocabSize) + ")");
    return c;
}

Gpt2Config Gpt2Config::fromJson(const nlohmann::json& json, const std::filesystem::path& file)
{
    try {
        return parseGpt2Config(json, file);
    } catch (const nlohmann::json::exception& e) {
        throw Error(file.string() + ": a value has the wrong type (" + e.what() + ")");
    }
}

}  // namespace spyglass::core
