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
                          const bool finite = gguf->dequantizeInto(*t, out);
                          if (transform) transform(out, *t);
                          return finite;
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
                          std::vector<float> values(static_cast<size_t>(rows * columns));
                          const bool finite = gguf->dequantizeInto(*t, values.data());
                          for (int64_t r = 0; r < rows; ++r)
                              for (int64_t c = 0; c < columns; ++c)
                                  out[c * rows + r] = values[static_cast<size_t>(r * columns + c)];
                          return finite;
                      });
}

std::string key(const std::string& arch, const char* name)
{
    return arch + "." + name;
}

// How llama.cpp's converter wrote each rotary family (convert_hf_to_gguf.py): which model_type it
// was, whether Q/K rows were permuted for ggml's interleaved RoPE (Llama only), whether (1 + w)
// was baked into the norm weights (Gemma), and the extra tensors of the family.
struct RotaryLayout {
    const char* arch;
    const char* modelType;
    bool permutedQk;
    bool normGainIncludesOne;
};

const RotaryLayout kRotaryLayouts[] = {
    {"llama", "llama", true, false}, {"qwen2", "qwen2", false, false},  {"qwen3", "qwen3", false, false},
    {"gemma", "gemma", false, true}, {"gemma2", "gemma2", false, true}, {"phi3", "phi3", false, false},
};

const RotaryLayout* rotaryLayout(const std::string& arch)
{
    for (const RotaryLayout& l : kRotaryLayouts)
        if (arch == l.arch) return &l;
    return nullptr;
}

nlohmann::json rotaryConfig(const GgufFile& g, const std::string& arch, const RotaryLayout& layout)
{
    const int64_t heads = g.integer(key(arch, "attention.head_count"));
    const int64_t width = g.integer(key(arch, "embedding_length"));
    nlohmann::json c;
    c["model_type"] = layout.modelType;
    c["hidden_size"] = width;
    c["intermediate_size"] = g.integer(key(arch, "feed_forward_length"));
    c["num_hidden_layers"] = g.integer(key(arch, "block_count"));
    c["num_attention_heads"] = heads;
    c["num_key_value_heads"] = g.optionalInteger(key(arch, "attention.head_count_kv")).value_or(heads);
    c["rms_norm_eps"] = g.number(key(arch, "attention.layer_norm_rms_epsilon"));
    c["rope_theta"] = g.optionalNumber(key(arch, "rope.freq_base")).value_or(10000.0);
    c["max_position_embeddings"] = g.integer(key(arch, "context_length"));
    c["vocab_size"] = g.tensor("token_embd.weight").shape[0];
    const int64_t headDim = g.optionalInteger(key(arch, "attention.key_length")).value_or(width / heads);
    if (g.find(key(arch, "attention.key_length"))) c["head_dim"] = headDim;
    if (const auto rotated = g.optionalInteger(key(arch, "rope.dimension_count")); rotated && *rotated != headDim)
        throw Error(g.path().string() + ": " + key(arch, "rope.dimension_count") + " (" + std::to_string(*rotated) +
                    ") differs from the head size (" + std::to_string(headDim) +
                    "); partial rotary is not supported for '" + arch + "'");
    if (const auto bos = g.optionalInteger("tokenizer.ggml.bos_token_id")) c["bos_token_id"] = *bos;
    if (const auto eos = g.optionalInteger("tokenizer.ggml.eos_token_id")) c["eos_token_id"] = *eos;
    c["tie_word_embeddings"] = g.findTensor("output.weight") == nullptr;
    if (const GgufValue* scaling = g.find(key(arch, "rope.scaling.type"));
        scaling && scaling->type == GgufType::String && scaling->text == "linear")
        c["rope_scaling"] = {{"type", "linear"}, {"factor", g.number(key(arch, "rope.scaling.factor"))}};
    if (layout.normGainIncludesOne) c[kNormGainIncludesOneKey] = true;
    if (arch == "gemma" || arch == "gemma2") c["hidden_activation"] = "gelu_pytorch_tanh";
    if (arch == "gemma2") {
        if (const auto cap = g.optionalNumber(key(arch, "attn_logit_softcapping"))) c["attn_logit_softcapping"] = *cap;
        if (const auto cap = g.optionalNumber(key(arch, "final_logit_softcapping")))
            c["final_logit_softcapping"] = *cap;
        if (const auto window = g.optionalInteger(key(arch, "attention.sliding_window"))) c["sliding_window"] = *window;
        // GGUF has no query_pre_attn_scalar: llama.cpp takes n_embd / n_head for the 46-layer (27B)
        // model and the head size otherwise, which is what the released checkpoints set.
        c["query_pre_attn_scalar"] = c["num_hidden_layers"].get<int64_t>() == 46 ? width / heads : headDim;
    }
    if (arch == "phi3") {
        if (g.findTensor("rope_factors_long.weight") || g.findTensor("rope_factors_short.weight"))
            throw Error(
                g.path().string() +
                ": Phi-3 with long-context RoPE factors (rope_factors_long/short, 'longrope') is not supported");
        if (const auto window = g.optionalInteger(key(arch, "attention.sliding_window")); window && *window > 0)
            c["sliding_window"] = *window;
    }
    return c;
}

GgufModelSource rotarySource(const std::shared_ptr<const GgufFile>& gguf, const std::string& arch,
                             const RotaryLayout& layout)
{
    const GgufFile& g = *gguf;
    GgufModelSource s{layout.modelType, rotaryConfig(g, arch, layout), WeightStore(g.path().filename().string())};
    const nlohmann::json& c = s.config;
    const int64_t heads = c["num_attention_heads"].get<int64_t>(), kvHeads = c["num_key_value_heads"].get<int64_t>();
    WeightStore& w = s.weights;
    addTensor(w, gguf, "token_embd.weight", "model.embed_tokens.weight");
    addTensor(w, gguf, "output_norm.weight", "model.norm.weight");
    addTensor(w, gguf, "output.weight", "lm_head.weight");
    auto unpermute = [](int64_t n) {
        return [n](float* out, const GgufTensor& t) { unpermuteRotaryRows(out, t.shape[0], t.shape[1], n); };
    };
    const std::function<void(float*, const GgufTensor&)> none;
    for (int64_t i = 0; i < c["num_hidden_layers"].get<int64_t>(); ++i) {
        const std::string b = "blk." + std::to_string(i) + ".";
        const std::string h = "model.layers." + std::to_string(i) + ".";
        addTensor(w, gguf, b + "attn_norm.weight", h + "input_layernorm.weight");
        if (arch == "phi3") {  // fused as in the HF checkpoint: attn_qkv rows q | k | v, ffn_up rows gate | up
            addTensor(w, gguf, b + "attn_qkv.weight", h + "self_attn.qkv_proj.weight");
            addTensor(w, gguf, b + "ffn_up.weight", h + "mlp.gate_up_proj.weight");
        } else {
            addTensor(w, gguf, b + "attn_q.weight", h + "self_attn.q_proj.weight",
                      layout.permutedQk ? unpermute(heads) : none);
            addTensor(w, gguf, b + "attn_k.weight", h + "self_attn.k_proj.weight",
                      layout.permutedQk ? unpermute(kvHeads) : none);
            addTensor(w, gguf, b + "attn_v.weight", h + "self_attn.v_proj.weight");
            addTensor(w, gguf, b + "ffn_gate.weight", h + "mlp.gate_proj.weight");
            addTensor(w, gguf, b + "ffn_up.weight", h + "mlp.up_proj.weight");
        }
        for (const char* p : {"q", "k", "v"})
            addTensor(w, gguf, b + "attn_" + p + ".bias", h + "self_attn." + p + "_proj.bias");
        addTensor(w, gguf, b + "attn_q_norm.weight", h + "self_attn.q_norm.weight");
        addTensor(w, gguf, b + "attn_k_norm.weight", h + "self_attn.k_norm.weight");
        addTensor(w, gguf, b + "attn_output.weight", h + "self_attn.o_proj.weight");
        addTensor(w, gguf, b + "ffn_down.weight", h + "mlp.down_proj.weight");
        if (arch == "gemma2") {  // ffn_norm is the pre-MLP norm; the two post-norms are their own
            addTensor(w, gguf, b + "post_attention_norm.weight", h + "post_attention_layernorm.weight");
            addTensor(w, gguf, b + "ffn_norm.weight", h + "pre_feedforward_layernorm.weight");
            addTensor(w, gguf, b + "post_ffw_norm.weight", h + "post_feedforward_layernorm.weight");
        } else {
            addTensor(w, gguf, b + "ffn_norm.weight", h + "post_attention_layernorm.weight");
        }
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
    return "llama, qwen2, qwen3, gemma, gemma2, phi3, gpt2";
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
    if (const RotaryLayout* layout = rotaryLayout(arch)) return rotarySource(gguf, arch, *layout);
    if (arch == "gpt2") return gpt2Source(gguf);
    throw Error(gguf->path().string() + ": general.architecture '" + arch +
                "' is not supported (supported: " + supportedGgufArchitectures() + ")");
}

}  // namespace spyglass::core
