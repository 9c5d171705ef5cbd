// GGUF architectures gemma, gemma2, phi3 and qwen3 (#15). No file of these families written by
// llama.cpp's converter is in the reference data, so each test writes one the way
// convert_hf_to_gguf.py does (its tensor names, {arch}.* keys, Gemma's norm weights stored as
// 1 + w, Phi-3's fused attn_qkv / ffn_up) from the transformers-made folder of
// tests/fixtures/families, opens it as users open a .gguf, and compares with the transformers
// reference of that folder: every captured tensor within atol 1e-4 + rtol 1e-4, greedy ids exact.
#include "gguf_builder.h"
#include "reference_trace.h"
#include "test_support.h"

#include "spyglass/error.h"
#include "spyglass/language_model.h"
#include "spyglass/safetensors.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <regex>

using namespace spyglass::core;
using spyglass::test::fixture;
using spyglass::test::TempDir;

namespace {

nlohmann::json readConfig(const std::filesystem::path& dir)
{
    std::ifstream in(dir / "config.json");
    return nlohmann::json::parse(in);
}

// The GGUF name llama.cpp's converter gives a Hugging Face tensor of these families.
std::string ggufName(const std::string& arch, const std::string& hf)
{
    static const std::pair<const char*, const char*> kLayer[] = {
        {"input_layernorm", "attn_norm"},
        {"self_attn.q_proj", "attn_q"},
        {"self_attn.k_proj", "attn_k"},
        {"self_attn.v_proj", "attn_v"},
        {"self_attn.qkv_proj", "attn_qkv"},
        {"self_attn.o_proj", "attn_output"},
        {"self_attn.q_norm", "attn_q_norm"},
        {"self_attn.k_norm", "attn_k_norm"},
        {"mlp.gate_proj", "ffn_gate"},
        {"mlp.up_proj", "ffn_up"},
        {"mlp.gate_up_proj", "ffn_up"},
        {"mlp.down_proj", "ffn_down"},
        {"pre_feedforward_layernorm", "ffn_norm"},
        {"post_feedforward_layernorm", "post_ffw_norm"},
    };
    if (hf == "model.embed_tokens.weight") return "token_embd.weight";
    if (hf == "model.norm.weight") return "output_norm.weight";
    if (hf == "lm_head.weight") return "output.weight";
    std::smatch m;
    if (!std::regex_match(hf, m, std::regex(R"(model\.layers\.(\d+)\.(.+)\.(weight|bias))")))
        throw std::runtime_error("unmapped " + hf);
    const std::string block = "blk." + m[1].str() + ".", part = m[2].str(), kind = m[3].str();
    if (part == "post_attention_layernorm")  // Gemma 2's post-attention norm; the pre-MLP norm elsewhere
        return block + (arch == "gemma2" ? "post_attention_norm." : "ffn_norm.") + kind;
    for (const auto& [from, to] : kLayer)
        if (part == from) return block + to + "." + kind;
    throw std::runtime_error("unmapped " + hf);
}

// `folder` written as llama.cpp's converter writes architecture `arch` (F32); `extra` adds more.
std::filesystem::path convert(const std::filesystem::path& folder, const std::string& arch,
                              const std::filesystem::path& out,
                              const std::function<void(spyglass::test::GgufBuilder&)>& extra = {})
{
    const nlohmann::json c = readConfig(folder);
    const int headDim = c.value("head_dim", c["hidden_size"].get<int>() / c["num_attention_heads"].get<int>());
    spyglass::test::GgufBuilder g;
    g.str("general.architecture", arch);
    g.u32(arch + ".block_count", c["num_hidden_layers"].get<uint32_t>());
    g.u32(arch + ".context_length", c["max_position_embeddings"].get<uint32_t>());
    g.u32(arch + ".embedding_length", c["hidden_size"].get<uint32_t>());
    g.u32(arch + ".feed_forward_length", c["intermediate_size"].get<uint32_t>());
    g.u32(arch + ".attention.head_count", c["num_attention_heads"].get<uint32_t>());
    g.u32(arch + ".attention.head_count_kv", c["num_key_value_heads"].get<uint32_t>());
    g.f32(arch + ".attention.layer_norm_rms_epsilon", c["rms_norm_eps"].get<float>());
    g.f32(arch + ".rope.freq_base", c["rope_theta"].get<float>());
    g.u32(arch + ".rope.dimension_count", static_cast<uint32_t>(headDim));
    if (c.contains("head_dim")) {
        g.u32(arch + ".attention.key_length", static_cast<uint32_t>(headDim));
        g.u32(arch + ".attention.value_length", static_cast<uint32_t>(headDim));
    }
    if (arch == "gemma2") {
        g.f32(arch + ".attn_logit_softcapping", c["attn_logit_softcapping"].get<float>());
        g.f32(arch + ".final_logit_softcapping", c["final_logit_softcapping"].get<float>());
        g.u32(arch + ".attention.sliding_window", c["sliding_window"].get<uint32_t>());
    }
    g.u32("tokenizer.ggml.bos_token_id", c["bos_token_id"].get<uint32_t>());
    g.u32("tokenizer.ggml.eos_token_id", c["eos_token_id"].get<uint32_t>());
    auto weights = SafetensorsFile::open(folder / "model.safetensors");
    const bool gemma = arch == "gemma" || arch == "gemma2";
    for (const auto& view : weights->tensors()) {
        HostTensor t = weights->readFloat(view.name);
        if (gemma && view.name.size() > 11 && view.name.ends_with("norm.weight"))
            for (float& v : t.values) v = v + 1.0F;  // convert_hf_to_gguf.py: data_torch + 1
        g.tensor(ggufName(arch, view.name), t);
    }
    if (extra) extra(g);
    g.write(out);
    return out;
}

class GgufFamily : public ::testing::TestWithParam<std::string> {
protected:
    std::filesystem::path folder() const { return fixture("families/" + GetParam() + "-tiny-random"); }
    TempDir m_dir;
};

}  // namespace

TEST_P(GgufFamily, EveryTensorMatchesTransformers)
{
    const std::string arch = GetParam();
    auto model = LanguageModel::load(convert(folder(), arch, m_dir / (arch + ".gguf")));
    EXPECT_EQ(model->info().architecture, arch);
    const int layers = model->info().layerCount;
    EXPECT_EQ(spyglass::test::expectTraceMatchesReference(*model, folder() / "reference.safetensors", arch),
              2 + 6 * layers);
    spyglass::test::expectGreedyIdsMatchReference(*model, folder() / "reference.safetensors");
}

INSTANTIATE_TEST_SUITE_P(Architectures, GgufFamily, ::testing::Values("gemma", "phi3", "qwen3"));

// GGUF has no query_pre_attn_scalar: as llama.cpp, the head size (n_embd / n_head for the
// 46-layer 27B). The tiny model's config says 24, not its head size 16, so the GGUF must equal
// the folder with 16 — and everything else (sandwich norms, soft-caps, window) as transformers.
TEST(GgufGemma2, AsLlamaCppWithTheHeadSizeAsQueryScalar)
{
    TempDir dir;
    const auto source = fixture("families/gemma2-tiny-random");
    auto gguf = LanguageModel::load(convert(source, "gemma2", dir / "gemma2.gguf"));
    std::filesystem::create_directory(dir / "folder");
    nlohmann::json c = readConfig(source);
    c["query_pre_attn_scalar"] = 16;
    spyglass::test::writeFile(dir / "folder" / "config.json", c.dump());
    std::filesystem::copy_file(source / "model.safetensors", dir / "folder" / "model.safetensors");
    auto folder = LanguageModel::load(dir / "folder");
    const std::vector<int> ids{2, 306, 4, 87, 511, 256, 19, 42, 42, 170, 3, 499};
    const auto a = gguf->trace(ids), b = folder->trace(ids);
    ASSERT_EQ(a.size(), b.size());
    ASSERT_EQ(a.size(), 3u + 8u * 4u);  // with attn_raw, mlp_raw per layer and logits_pre_softcap
    for (const auto& [name, t] : a) EXPECT_TRUE(spyglass::test::allClose(t, b.at(name), 1e-5, 1e-5)) << name;
    // And the scalar matters: the original config gives other logits.
    auto original = LanguageModel::load(source);
    EXPECT_FALSE(spyglass::test::allClose(a.at("logits"), original->trace(ids).at("logits"), 1e-4, 1e-4));
}

TEST(GgufPhi3, LongContextRopeFactorsAreRefusedByName)
{
    TempDir dir;
    const auto file = convert(fixture("families/phi3-tiny-random"), "phi3", dir / "phi3-128k.gguf",
                              [](spyglass::test::GgufBuilder& g) {
                                  g.tensor("rope_factors_long.weight", {{8}, std::vector<float>(8, 1.0F)});
                              });
    const std::string message = spyglass::test::errorOf([&] { (void)LanguageModel::load(file); });
    EXPECT_NE(message.find("phi3-128k.gguf"), std::string::npos) << message;
    EXPECT_NE(message.find("longrope"), std::string::npos) << message;
}
