// GPT-2 parity with the reference implementations (nanoGPT, float64 numpy, HF transformers) on
// gpt2-tiny-random: every captured tensor within atol 1e-4 + rtol 1e-4, greedy ids exact (#2).
#include "test_support.h"

#include "spyglass/language_model.h"
#include "spyglass/safetensors.h"

#include <nlohmann/json.hpp>

#include <fstream>

using namespace spyglass::core;
using spyglass::test::allClose;
using spyglass::test::fixture;

namespace {

const std::vector<int> kPromptIds{16, 11, 362, 11, 513, 11, 604, 11};

nlohmann::json readJson(const std::string& relative)
{
    std::ifstream in(fixture(relative));
    return nlohmann::json::parse(in);
}

}  // namespace

TEST(Gpt2Parity, EveryReferenceTensorMatches)
{
    auto model = LanguageModel::load(fixture("gpt2-tiny-random"));
    EXPECT_EQ(model->info().architecture, "gpt2");
    EXPECT_EQ(model->info().layerCount, 2);
    EXPECT_EQ(model->info().mlpWidth, 256);
    EXPECT_EQ(model->encode("1, 2, 3, 4,"), kPromptIds);
    const auto trace = model->trace(kPromptIds);
    auto reference = SafetensorsFile::open(fixture("gpt2-tiny-random/reference.safetensors"));
    EXPECT_EQ(reference->readInt64("input_ids"), std::vector<int64_t>(kPromptIds.begin(), kPromptIds.end()));
    int compared = 0;
    for (const auto& view : reference->tensors()) {
        if (view.name == "input_ids") continue;
        const std::string name = view.name == "ln_f_out" ? "final_norm_out" : view.name;
        ASSERT_TRUE(trace.count(name)) << name;
        EXPECT_TRUE(allClose(trace.at(name), reference->readFloat(view.name))) << name;
        ++compared;
    }
    EXPECT_EQ(compared, 12);
    // mlp_act is the input of the down-projection: [T, 4·n_embd], and attention rows sum to 1.
    EXPECT_EQ(trace.at("mlp_act.1").shape, (std::vector<int64_t>{8, 256}));
    const HostTensor& pattern = trace.at("attn_pattern.0");
    EXPECT_EQ(pattern.shape, (std::vector<int64_t>{4, 8, 8}));
    EXPECT_EQ(pattern.at({2, 3, 5}), 0.0F);
}

TEST(Gpt2Parity, ArgmaxPerPositionAndGreedyGenerationMatchReference)
{
    auto model = LanguageModel::load(fixture("gpt2-tiny-random"));
    const auto logits = model->trace(kPromptIds, kCaptureLogits).at("logits");
    const auto expected = readJson("gpt2-tiny-random/reference.json")["argmax_per_position"].get<std::vector<int>>();
    const int64_t vocab = logits.shape[1];
    for (size_t p = 0; p < expected.size(); ++p) {
        const float* row = logits.values.data() + p * vocab;
        EXPECT_EQ(std::max_element(row, row + vocab) - row, expected[p]) << "position " << p;
    }
    SamplingOptions greedy;
    greedy.maxNewTokens = 4;
    const auto result = model->generate(kPromptIds, greedy);
    EXPECT_EQ(result.generatedIds, readJson("gpt2-tiny-random/ecco.json")["generated_ids"].get<std::vector<int>>());
}

TEST(Gpt2Parity, CaptureIsOptIn)
{
    auto model = LanguageModel::load(fixture("gpt2-tiny-random"));
    const auto only = model->trace(kPromptIds, kCaptureMlpAct | kCaptureAttnPattern);
    EXPECT_EQ(only.size(), 4u);
    EXPECT_TRUE(only.count("mlp_act.0") && only.count("attn_pattern.1"));
}
