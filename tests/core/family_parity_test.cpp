// Llama (GQA; linear RoPE scaling + tied embeddings) and GPT-NeoX (partial rotary, parallel
// residual) against Hugging Face transformers' own classes (tests/fixtures/families): every
// tensor within atol 1e-4 + rtol 1e-4, greedy ids exact with and without the KV cache, the lens
// self-check, and every analysis running on each family (#8).
#include "test_support.h"

#include "spyglass/analysis.h"
#include "spyglass/error.h"
#include "spyglass/language_model.h"
#include "spyglass/safetensors.h"

#include <nlohmann/json.hpp>

#include <fstream>

using namespace spyglass::core;
using spyglass::test::allClose;
using spyglass::test::fixture;

namespace {

class FamilyParity : public ::testing::TestWithParam<std::string> {
protected:
    std::filesystem::path dir() const { return fixture("families/" + GetParam()); }
};

std::vector<int> asInts(const std::vector<int64_t>& v) { return {v.begin(), v.end()}; }

}  // namespace

TEST_P(FamilyParity, EveryTensorMatchesTransformers)
{
    auto model = LanguageModel::load(dir());
    auto reference = SafetensorsFile::open(dir() / "reference.safetensors");
    const auto ids = asInts(reference->readInt64("input_ids"));
    const auto trace = model->trace(ids);
    int compared = 0;
    for (const auto& view : reference->tensors()) {
        if (view.dtype != DType::F32 || view.name == "greedy_step_logits") continue;
        ASSERT_TRUE(trace.count(view.name)) << view.name;
        EXPECT_TRUE(allClose(trace.at(view.name), reference->readFloat(view.name))) << GetParam() << " " << view.name;
        ++compared;
    }
    EXPECT_EQ(compared, 2 + 6 * model->info().layerCount);
}

TEST_P(FamilyParity, GreedyIdsExactWithAndWithoutCache)
{
    auto model = LanguageModel::load(dir());
    auto reference = SafetensorsFile::open(dir() / "reference.safetensors");
    const auto ids = asInts(reference->readInt64("input_ids"));
    const auto expected = asInts(reference->readInt64("generated_ids"));
    SamplingOptions o;
    o.maxNewTokens = static_cast<int>(expected.size());
    o.stopAtEos = false;
    EXPECT_EQ(model->generate(ids, o).generatedIds, expected);
    o.useKvCache = false;
    EXPECT_EQ(model->generate(ids, o).generatedIds, expected);
}

TEST_P(FamilyParity, EveryAnalysisRuns)
{
    auto model = LanguageModel::load(dir());
    const auto ids = asInts(SafetensorsFile::open(dir() / "reference.safetensors")->readInt64("input_ids"));
    AnalysisOptions o;
    o.maxNewTokens = 3;
    o.saliencyMethods = {"grad_x_input", "gradient", "integrated_gradients", "occlusion"};
    o.integratedGradientSteps = 8;
    o.factorStabilitySeeds = 1;
    for (const char* mode : {"normed", "raw", "sublayer"}) {
        o.lensMode = mode;
        const Report r = analyzeIds(*model, ids, o);
        EXPECT_EQ(r.model.architecture, model->info().architecture);
        EXPECT_EQ(r.tokens.size(), ids.size() + 3);
        EXPECT_FALSE(r.tokens[0].text.has_value());
        for (const auto& s : r.saliency) EXPECT_EQ(s.rows.size(), 3u) << s.method;
        EXPECT_LT(r.lens->selfCheckMaxAbsDiff, 1e-4) << mode;
        EXPECT_EQ(r.factors->positions.size(), ids.size() + 3);
        EXPECT_EQ(r.projection->points.size(), ids.size() + 3);
    }
}

INSTANTIATE_TEST_SUITE_P(Families, FamilyParity, ::testing::Values("llama-tiny-random", "llama-ropescale-random", "neox-tiny-random"));

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
        EXPECT_NE(std::string(e.what()).find("num_attention_heads (8) is not a multiple of num_key_value_heads (3)"), std::string::npos) << e.what();
    }
    config["num_key_value_heads"] = 4;
    config["rope_scaling"] = {{"type", "yarn"}, {"factor", 2.0}};
    spyglass::test::writeFile(dir / "config.json", config.dump());
    try {
        (void)LanguageModel::load(dir.path());
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("rope_scaling type 'yarn' is not supported"), std::string::npos) << e.what();
    }
}
