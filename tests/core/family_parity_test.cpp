// Llama (GQA; linear RoPE scaling + tied embeddings), GPT-NeoX (partial rotary, parallel
// residual), Gemma, Gemma 2, Phi-3 and Qwen3 against Hugging Face transformers' own classes
// (tests/fixtures/families): every tensor within atol 1e-4 + rtol 1e-4 (Gemma 2's extra
// attn_raw/mlp_raw/logits_pre_softcap too), greedy ids exact with and without the KV cache, the
// lens self-check, and every analysis running on each family (#8, #15).
#include "quick_analysis.h"
#include "reference_trace.h"
#include "test_support.h"

#include "spyglass/analysis.h"
#include "spyglass/error.h"
#include "spyglass/language_model.h"
#include "spyglass/safetensors.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <map>

using namespace spyglass::core;
using spyglass::test::allClose;
using spyglass::test::asInts;
using spyglass::test::fixture;

namespace {

class FamilyParity : public ::testing::TestWithParam<std::string> {
protected:
    std::filesystem::path dir() const { return fixture("families/" + GetParam()); }
};

}  // namespace

TEST_P(FamilyParity, EveryTensorMatchesTransformers)
{
    auto model = LanguageModel::load(dir());
    const int compared =
        spyglass::test::expectTraceMatchesReference(*model, dir() / "reference.safetensors", GetParam());
    // resid_pre, attn_out, attn_pattern, mlp_act, mlp_out, resid_post per layer + final norm, logits;
    // Gemma 2 adds attn_raw and mlp_raw per layer and the logits before the soft-cap.
    const int layers = model->info().layerCount;
    EXPECT_EQ(compared, GetParam() == "gemma2-tiny-random" ? 3 + 8 * layers : 2 + 6 * layers);
}

TEST_P(FamilyParity, GreedyIdsExactWithAndWithoutCache)
{
    auto model = LanguageModel::load(dir());
    spyglass::test::expectGreedyIdsMatchReference(*model, dir() / "reference.safetensors");
}

TEST_P(FamilyParity, EveryAnalysisRuns)
{
    auto model = LanguageModel::load(dir());
    const auto ids = asInts(SafetensorsFile::open(dir() / "reference.safetensors")->readInt64("input_ids"));
    AnalysisOptions o = spyglass::test::everyMethodQuickly();
    for (LensMode mode : allValues<LensMode>()) {
        o.lensMode = mode;
        const Report r = analyzeIds(*model, ids, o);
        EXPECT_EQ(r.model.architecture, model->info().architecture);
        EXPECT_EQ(r.tokens.size(), ids.size() + 3);
        EXPECT_FALSE(r.tokens[0].text.has_value());
        for (const auto& s : r.saliency) EXPECT_EQ(s.rows.size(), 3u) << name(s.method);
        EXPECT_LT(r.lens->selfCheckMaxAbsDiff, 1e-4) << name(mode);
        EXPECT_EQ(r.factors->positions.size(), ids.size() + 3);
        EXPECT_EQ(r.projection->points.size(), ids.size() + 3);
    }
}

INSTANTIATE_TEST_SUITE_P(Families, FamilyParity,
                         ::testing::Values("llama-tiny-random", "llama-ropescale-random", "neox-tiny-random",
                                           "gemma-tiny-random", "gemma2-tiny-random", "phi3-tiny-random",
                                           "qwen3-tiny-random"));

TEST(FamilyConfig, ErrorsNameTheKey)
{
    spyglass::test::TempDir dir;
    std::ifstream in(fixture("families/llama-tiny-random/config.json"));
    nlohmann::json config = nlohmann::json::parse(in);
    config["num_key_value_heads"] = 3;
    spyglass::test::writeFile(dir / "config.json", config.dump());
    try {
        (void)LanguageModel::load(dir.path());
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("num_attention_heads (8) is not a multiple of num_key_value_heads (3)"),
                  std::string::npos)
            << e.what();
    }
    config["num_key_value_heads"] = 4;
    config["rope_scaling"] = {{"type", "yarn"}, {"factor", 2.0}};
    spyglass::test::writeFile(dir / "config.json", config.dump());
    try {
        (void)LanguageModel::load(dir.path());
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("rope_scaling type 'yarn' is not supported"), std::string::npos)
            << e.what();
    }
}

namespace {

// A copy of llama-tiny-random with an edited config and extra tensors.
std::filesystem::path variant(const spyglass::test::TempDir& dir, const std::function<void(nlohmann::json&)>& edit,
                              const std::map<std::string, HostTensor>& extra = {})
{
    std::ifstream in(fixture("families/llama-tiny-random/config.json"));
    nlohmann::json config = nlohmann::json::parse(in);
    edit(config);
    spyglass::test::writeFile(dir / "config.json", config.dump());
    auto file = SafetensorsFile::open(fixture("families/llama-tiny-random/model.safetensors"));
    SafetensorsWriter w;
    for (const auto& view : file->tensors()) w.addFloat(view.name, file->readFloat(view.name));
    for (const auto& [name, t] : extra) w.addFloat(name, t);
    w.write(dir / "model.safetensors");
    return dir.path();
}

const std::vector<int> kIds{1, 306, 4, 87, 511, 256, 19, 42, 42, 170, 3, 499};

}  // namespace

TEST(Qwen2, ValueBiasShiftsAttentionOutputByItsProjection)
{
    // Rows of a softmax sum to 1, so a v bias b adds exactly Wo · (b of each query head's kv head).
    spyglass::test::TempDir dir;
    std::map<std::string, HostTensor> biases;
    HostTensor vBias{{32}, {}};
    for (int i = 0; i < 32; ++i) vBias.values.push_back(0.05F * static_cast<float>(i % 7) - 0.1F);
    for (int l = 0; l < 4; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".self_attn.";
        biases[p + "q_proj.bias"] = {{64}, std::vector<float>(64, 0.0F)};
        biases[p + "k_proj.bias"] = {{32}, std::vector<float>(32, 0.0F)};
        biases[p + "v_proj.bias"] = vBias;
    }
    auto qwen = LanguageModel::load(variant(
        dir,
        [](nlohmann::json& c) {
            c["model_type"] = "qwen2";
            c["architectures"] = {"Qwen2ForCausalLM"};
        },
        biases));
    auto llama = LanguageModel::load(fixture("families/llama-tiny-random"));
    const HostTensor withBias = qwen->trace(kIds, kCaptureAttnOut).at("attn_out.0");
    const HostTensor without = llama->trace(kIds, kCaptureAttnOut).at("attn_out.0");
    const HostTensor wo = SafetensorsFile::open(fixture("families/llama-tiny-random/model.safetensors"))
                              ->readFloat("model.layers.0.self_attn.o_proj.weight");
    // Query head h (8 heads of 8 dims) reads kv head h / 2.
    std::vector<float> perQueryHead(64);
    for (int h = 0; h < 8; ++h)
        for (int d = 0; d < 8; ++d)
            perQueryHead[static_cast<size_t>(h * 8 + d)] = vBias.values[static_cast<size_t>((h / 2) * 8 + d)];
    for (int t = 0; t < 12; ++t)
        for (int o = 0; o < 64; ++o) {
            double shift = 0;
            for (int i = 0; i < 64; ++i) shift += wo.at({o, i}) * perQueryHead[static_cast<size_t>(i)];
            EXPECT_NEAR(withBias.at({t, o}) - without.at({t, o}), shift, 1e-5) << t << "," << o;
        }
}

TEST(Mistral, SlidingWindowMasksOldKeys)
{
    spyglass::test::TempDir wide, narrow;
    auto edit = [](int window) {
        return [window](nlohmann::json& c) {
            c["model_type"] = "mistral";
            c["architectures"] = {"MistralForCausalLM"};
            c["sliding_window"] = window;
        };
    };
    // A window longer than the prompt changes nothing.
    auto same = LanguageModel::load(variant(wide, edit(4096)));
    auto llama = LanguageModel::load(fixture("families/llama-tiny-random"));
    EXPECT_TRUE(allClose(same->trace(kIds, kCaptureLogits).at("logits"),
                         llama->trace(kIds, kCaptureLogits).at("logits"), 1e-6, 0));
    // A window of 3: query i sees keys i-2 … i only; rows still sum to 1.
    auto windowed = LanguageModel::load(variant(narrow, edit(3)));
    const HostTensor pattern = windowed->trace(kIds, kCaptureAttnPattern).at("attn_pattern.1");
    for (int h = 0; h < 8; ++h)
        for (int i = 0; i < 12; ++i) {
            double sum = 0;
            for (int j = 0; j < 12; ++j) {
                const float p = pattern.at({h, i, j});
                if (j > i || i - j >= 3)
                    EXPECT_EQ(p, 0.0F) << h << " " << i << " " << j;
                else
                    EXPECT_GT(p, 0.0F);
                sum += p;
            }
            EXPECT_NEAR(sum, 1.0, 1e-5);
        }
    // And generation with the cache respects the window as the full recomputation does.
    SamplingOptions o;
    o.maxNewTokens = 6;
    o.stopAtEos = false;
    const auto cached = windowed->generate(kIds, o).generatedIds;
    o.useKvCache = false;
    EXPECT_EQ(windowed->generate(kIds, o).generatedIds, cached);
}
