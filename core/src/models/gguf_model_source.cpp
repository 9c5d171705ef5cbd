#include "models/gguf_model_source.h"

#include "spyglass/error.h"

#include <cstring>
#include <vector>

namespace spyglass::core {

namespace {

// A tensor of the file under its Hugging Face name: dequantized when the model asks for it, then
// transformed (un-permuted, transposed) in place.
void addTensor(WeightStore& store, const std::shared_ptr<const GgufFile>& gguf, const std::string& ggufName,
               const std::string& hfName, std::function<void(float*, const GgufTensor&)> transform = {})
{
    const GgufTensor* t = gguf->findTensor(ggufName);
    if (!t) return;  // the model names what it misses, with the file
    store.addComputed(hfName, t->shape, t->file + " (GGUF tensor '" + ggufName + "')",
                      [gguf, t, transform](float* out) {
                          gguf->dequantizeInto(*t, out);
                          if (transform) transform(out, *t);
                      });
}

void addTransposed(WeightStore& store, const std::shared_ptr<const GgufFile>& gguf, const std::string& ggufName,
                   const std::string& hfName)
{
    const GgufTensor* t = gguf->findTensor(ggufName);
    if (!t) return;
    if (t->shape.size() != 2) throw Error(gguf->path().string() + ": tensor '" + ggufName + "' is not a matrix");
    const int64_t rows = t->shape[0], columns = t->shape[1];
    store.addComputed(hfName, {columns, rows}, t->file + " (GGUF tensor '" + ggufName + "', transposed)",
                      [gguf, t, rows, columns](float* out) {
                          const std::vector<float> values = gguf->dequantize(*t);
                          for (int64_t r = 0; r < rows; ++r)
                              for (int64_t c = 0; c < columns; ++c)
                                  out[c * rows + r] = values[static_cast<size_t>(r * columns + c)];
                      });
}

std::string key(const std::string& arch, const char* name)
{
    return arch + "." + name;
}

GgufModelSource llamaSource(const std::shared_ptr<const GgufFile>& gguf, const std::string& arch)
{
    const GgufFile& g = *gguf;
    GgufModelSource s{"llama", nlohmann::json::object(), WeightStore(g.path().filename().string())};
    const int64_t heads = g.integer(key(arch, "attention.head_count"));
    const int64_t kvHeads = g.optionalInteger(key(arch, "attention.head_count_kv")).value_or(heads);
    const int64_t layers = g.integer(key(arch, "block_count"));
    const int64_t width = g.integer(key(arch, "embedding_length"));
    const GgufTensor& embedding = g.tensor("token_embd.weight");
    nlohmann::json& c = s.config;
    c["model_type"] = "llama";
    c["hidden_size"] = width;
    c["intermediate_size"] = g.integer(key(arch, "feed_forward_length"));
    c["num_hidden_layers"] = layers;
    c["num_attention_heads"] = heads;
    c["num_key_value_heads"] = kvHeads;
    c["rms_norm_eps"] = g.number(key(arch, "attention.layer_norm_rms_epsilon"));
    c["rope_theta"] = g.optionalNumber(key(arch, "rope.freq_base")).value_or(10000.0);
    c["max_position_embeddings"] = g.integer(key(arch, "context_length"));
    c["vocab_size"] = embedding.shape[0];
    if (const auto headDim = g.optionalInteger(key(arch, "attention.key_length"))) c["head_dim"] = *headDim;
    if (const auto bos = g.optionalInteger("tokenizer.ggml.bos_token_id")) c["bos_token_id"] = *bos;
    if (const auto eos = g.optionalInteger("tokenizer.ggml.eos_token_id")) c["eos_token_id"] = *eos;
    c["tie_word_embeddings"] = g.findTensor("output.weight") == nullptr;
    if (const GgufValue* scaling = g.find(key(arch, "rope.scaling.type"));
        scaling && scaling->type == GgufType::String && scaling->text == "linear")
        c["rope_scaling"] = {{"type", "linear"}, {"factor", g.number(key(arch, "rope.scaling.factor"))}};

    WeightStore& w = s.weights;
    addTensor(w, gguf, "token_embd.weight", "model.embed_tokens.weight");
    addTensor(w, gguf, "output_norm.weight", "model.norm.weight");
    addTensor(w, gguf, "output.weight", "lm_head.weight");
    for (int64_t i = 0; i < layers; ++i) {
        const std::string b = "blk." + std::to_string(i) + ".";
        const std::string h = "model.layers." + std::to_string(i) + ".";
        addTensor(w, gguf, b + "attn_norm.weight", h + "input_layernorm.weight");
        addTensor(
            w, gguf, b + "attn_q.weight", h + "self_attn.q_proj.weight",
            [heads](float* out, const GgufTensor& t) { unpermuteRotaryRows(out, t.shape[0], t.shape[1], heads); });
        addTensor(
            w, gguf, b + "attn_k.weight", h + "self_attn.k_proj.weight",
            [kvHeads](float* out, const GgufTensor& t) { unpermuteRotaryRows(out, t.shape[0], t.shape[1], kvHeads); });
        addTensor(w, gguf, b + "attn_v.weight", h + "self_attn.v_proj.weight");
        addTensor(w, gguf, b + "attn_output.weight", h + "self_attn.o_proj.weight");
        addTensor(w, gguf, b + "ffn_norm.weight", h + "post_attention_layernorm.weight");
        addTensor(w, gguf, b + "ffn_gate.weight", h + "mlp.gate_proj.weight");
        addTensor(w, gguf, b + "ffn_up.weight", h + "mlp.up_proj.weight");
        addTensor(w, gguf, b + "ffn_down.weight", h + "mlp.down_proj.weight");
    }
    return s;
}

GgufModelSource gpt2Source(const std::shared_ptr<const GgufFile>& gguf)
{
    const GgufFile& g = *gguf;
    GgufModelSource s{"gpt2", nlohmann::json::object(), WeightStore(g.path().filename().string())};
    const int64_t layers = g.integer("gpt2.block_count");
    const GgufTensor& embedding = g.tensor("token_embd.weight");
    nlohmann::json& c = s.config;
    c["model_type"] = "gpt2";
    c["n_embd"] = g.integer("gpt2.embedding_length");
    c["n_layer"] = layers;
    c["n_head"] = g.integer("gpt2.attention.head_count");
    c["n_positions"] = g.integer("gpt2.context_length");
    c["n_inner"] = g.integer("gpt2.feed_forward_length");
    c["layer_norm_epsilon"] = g.number("gpt2.attention.layer_norm_epsilon");
    c["vocab_size"] = embedding.shape[0];
    if (const auto bos = g.optionalInteger("tokenizer.ggml.bos_token_id")) c["bos_token_id"] = *bos;
    if (const auto eos = g.optionalInteger("tokenizer.ggml.eos_token_id")) c["eos_token_id"] = *eos;
    // llama.cpp's converter writes `output` as a copy of `token_embd` (GPT-2 ties them).
    c["tie_word_embeddings"] = true;

    WeightStore& w = s.weights;
    addTensor(w, gguf, "token_embd.weight", "wte.weight");
    addTensor(w, gguf, "position_embd.weight", "wpe.weight");
    addTensor(w, gguf, "output_norm.weight", "ln_f.weight");
    addTensor(w, gguf, "output_norm.bias", "ln_f.bias");
    for (int64_t i = 0; i < layers; ++i) {
        const std::string b = "blk." + std::to_string(i) + ".";
        const std::string h = "h." + std::to_string(i) + ".";
        for (const char* p : {"weight", "bias"}) {
            const std::string suffix = p;
            addTensor(w, gguf, b + "attn_norm." + suffix, h + "ln_1." + suffix);
            addTensor(w, gguf, b + "ffn_norm." + suffix, h + "ln_2." + suffix);
        }
        // Conv1D weights are [in, out] in Hugging Face's GPT-2; GGUF stores [out, in] rows.
        addTransposed(w, gguf, b + "attn_qkv.weight", h + "attn.c_attn.weight");
        addTensor(w, gguf, b + "attn_qkv.bias", h + "attn.c_attn.bias");
        addTransposed(w, gguf, b + "attn_output.weight", h + "attn.c_proj.weight");
        addTensor(w, gguf, b + "attn_output.bias", h + "attn.c_proj.bias");
        addTransposed(w, gguf, b + "ffn_up.weight", h + "mlp.c_fc.weight");
        addTensor(w, gguf, b + "ffn_up.bias", h + "mlp.c_fc.bias");
        addTransposed(w, gguf, b + "ffn_down.weight", h + "mlp.c_proj.weight");
        addTensor(w, gguf, b + "ffn_down.bias", h + "mlp.c_proj.bias");
    }
    return s;
}

}  // namespace

const char* supportedGgufArchitectures()
{
    return "llama, gpt2";
}

void unpermuteRotaryRows(float* data, int64_t rows, int64_t columns, int64_t heads)
{
    if (heads <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0)
        throw Error(std::to_string(rows) + " rows cannot be split into " + std::to_string(heads) +
                    " heads of an even size");
    const int64_t d = rows / heads;
    std::vector<float> head(static_cast<size_t>(d * columns));
    for (int64_t h = 0; h < heads; ++h) {
        float* base = data + h * d * columns;
        std::memcpy(head.data(), base, head.size() * sizeof(float));
        // GGUF row 2j is Hugging Face row j; GGUF row 2j+1 is Hugging Face row j + d/2.
        for (int64_t j = 0; j < d / 2; ++j) {
            std::memcpy(base + j * columns, head.data() + (2 * j) * columns,
                        static_cast<size_t>(columns) * sizeof(float));
            std::memcpy(base + (j + d / 2) * columns, head.data() + (2 * j + 1) * columns,
                        static_cast<size_t>(columns) * sizeof(float));
        }
    }
}

GgufModelSource ggufModelSource(const std::shared_ptr<const GgufFile>& gguf)
{
    const std::string arch = gguf->string("general.architecture");
    if (arch == "llama") return llamaSource(gguf, arch);
    if (arch == "gpt2") return gpt2Source(gguf);
    throw Error(gguf->path().string() + ": general.architecture '" + arch +
                "' is not supported (supported: " + supportedGgufArchitectures() + ")");
}

}  // namespace spyglass::core
