// llama2.c checkpoints (#8): the real pretrained aidreams260K reproduces run.c's greedy golden ids
// exactly and its step-0 logits within 1e-4; broken headers are refused with a reason.
#include "test_support.h"

#include "spyglass/error.h"
#include "spyglass/language_model.h"

#include <nlohmann/json.hpp>

#include <fstream>

using namespace spyglass::core;
using spyglass::test::fixture;

namespace {

nlohmann::json golden()
{
    std::ifstream in(fixture("llama2c/golden_ids.json"));
    return nlohmann::json::parse(in);
}

}  // namespace

TEST(Llama2c, GreedyGenerationReproducesRunC)
{
    auto model = LanguageModel::load(fixture("llama2c/aidreams260K.bin"));
    EXPECT_EQ(model->info().architecture, "llama2c");
    EXPECT_EQ(model->info().layerCount, 4);
    EXPECT_EQ(model->info().contextLength, 128);
    SamplingOptions o;
    o.maxNewTokens = 120;
    const auto result = model->generate({1}, o);
    EXPECT_EQ(result.generatedIds, golden()["generated_ids"].get<std::vector<int>>());
    EXPECT_FALSE(result.stoppedAtEos);
}

TEST(Llama2c, StepZeroLogitsMatch)
{
    auto model = LanguageModel::load(fixture("llama2c/aidreams260K.bin"));
    const HostTensor logits = model->trace({1}, kCaptureLogits).at("logits");
    const auto expected = golden()["logits_step0"].get<std::vector<double>>();
    ASSERT_EQ(logits.values.size(), expected.size());
    for (size_t v = 0; v < expected.size(); ++v) EXPECT_NEAR(logits.values[v], expected[v], 1e-4) << v;
}

TEST(Llama2c, TruncatedCheckpointsAreRefused)
{
    spyglass::test::TempDir dir;
    std::ifstream in(fixture("llama2c/aidreams260K.bin"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    spyglass::test::writeFile(dir / "model.bin", bytes.substr(0, bytes.size() - 100));
    try {
        (void)LanguageModel::load(dir / "model.bin");
        FAIL();
    } catch (const Error& e) {
        // Not recognisable as a llama2.c v0 file any more, and .bin is also a pickle name.
        EXPECT_NE(std::string(e.what()).find("model.bin"), std::string::npos) << e.what();
    }
}
