// Language models from GGUF files (#15) against transformers run on the same dequantized weights
// (tests/fixtures/gguf, from ../shared/reference/gguf: llama.cpp's own converter): every captured
// tensor within atol 1e-4 + rtol 1e-4, greedy ids exact, the embedded tokenizers' ids exact, every
// analysis running, and `spyglass-cli info|dequantize` on a .gguf.
#include "cli_support.h"
#include "quick_analysis.h"
#include "reference_trace.h"
#include "test_support.h"

#include "spyglass/analysis.h"
#include "spyglass/error.h"
#include "spyglass/language_model.h"
#include "spyglass/safetensors.h"
#include "spyglass/tokenizer.h"

#include <nlohmann/json.hpp>

#include <fstream>

using namespace spyglass::core;
using spyglass::test::allClose;
using spyglass::test::asInts;
using spyglass::test::fixture;

namespace {

class GgufModel : public ::testing::TestWithParam<std::string> {
protected:
    std::filesystem::path file() const { return fixture("gguf/" + GetParam() + ".gguf"); }
    std::filesystem::path referenceFile() const { return fixture("gguf/" + GetParam() + ".reference.safetensors"); }
};

}  // namespace

TEST_P(GgufModel, EveryTensorMatchesTransformersOnTheDequantizedWeights)
{
    auto model = LanguageModel::load(file());
    EXPECT_EQ(spyglass::test::expectTraceMatchesReference(*model, referenceFile(), GetParam()),
              2 + 6 * model->info().layerCount);
}

TEST_P(GgufModel, GreedyIdsExactWithAndWithoutCache)
{
    auto model = LanguageModel::load(file());
    spyglass::test::expectGreedyIdsMatchReference(*model, referenceFile());
}

TEST_P(GgufModel, EveryAnalysisRuns)
{
    auto model = LanguageModel::load(file());
    const auto ids = asInts(SafetensorsFile::open(referenceFile())->readInt64("input_ids"));
    const Report r = analyzeIds(*model, ids, spyglass::test::everyMethodQuickly());
    EXPECT_EQ(r.saliency.size(), 4u);
    ASSERT_TRUE(r.lens);
    EXPECT_LT(r.lens->selfCheckMaxAbsDiff, 1e-4);
    EXPECT_TRUE(r.factors && r.projection);
}

INSTANTIATE_TEST_SUITE_P(Files, GgufModel,
                         ::testing::Values("llama-tiny-random.f32", "llama-tiny-random.f16", "llama-tiny-random.q8_0",
                                           "gpt2-tiny-random.q8_0"),
                         [](const auto& info) {
                             std::string name = info.param;
                             for (char& c : name)
                                 if (c == '-' || c == '.') c = '_';
                             return name;
                         });

TEST(GgufTokenizer, EmbeddedTokenizersGiveTheReferenceIds)
{
    for (const char* name : {"llama-tiny-random", "gpt2-tiny-random"}) {
        const std::string model = std::string(name) + ".q8_0.gguf";
        auto lm = LanguageModel::load(fixture("gguf/" + model));
        ASSERT_TRUE(lm->tokenizer()) << name;
        std::ifstream cases(fixture(std::string("gguf/") + name + ".tokenizer_cases.jsonl"));
        std::string line;
        int checked = 0;
        while (std::getline(cases, line)) {
            const auto c = nlohmann::json::parse(line);
            const std::string text = c["text"].get<std::string>();
            // llama: add_bos_token is true (ids_with_bos); gpt2: no BOS.
            const auto expected = c.contains("ids_with_bos") ? c["ids_with_bos"].get<std::vector<int>>()
                                                             : c["ids"].get<std::vector<int>>();
            EXPECT_EQ(lm->tokenizer()->encode(text).ids, expected) << name << ": " << text;
            ++checked;
        }
        EXPECT_EQ(checked, 24) << name;
    }
}

TEST(GgufCli, InfoTokenizeAndDequantize)
{
    spyglass::test::TempDir dir;
    const std::string gguf = fixture("gguf/llama-tiny-random.q8_0.gguf").string();
    const auto info = spyglass::test::cli({"info", "--model", gguf});
    ASSERT_EQ(info.code, 0) << info.err;
    const auto j = nlohmann::json::parse(info.out);
    EXPECT_EQ(j["architecture"], "llama");
    EXPECT_EQ(j["n_layer"], 4);
    const std::string out = (dir / "weights.safetensors").string();
    const auto dq = spyglass::test::cli({"dequantize", "--model", gguf, "--out", out});
    ASSERT_EQ(dq.code, 0) << dq.err;
    auto written = SafetensorsFile::open(out);
    // Every tensor under its GGUF name, F32, row-major [rows, row length], as ggml dequantizes it.
    const TensorView& embedding = written->get("token_embd.weight");
    EXPECT_EQ(embedding.dtype, DType::F32);
    EXPECT_EQ(embedding.shape, (std::vector<int64_t>{512, 64}));
    EXPECT_EQ(written->tensors().size(), 3u + 9u * 4u);  // token_embd, output_norm, output + 9 per block
    const auto bad = spyglass::test::cli({"dequantize", "--model", fixture("gpt2-tiny-random").string(), "--out", out});
    EXPECT_EQ(bad.code, 1);
    EXPECT_NE(bad.err.find("not a GGUF file"), std::string::npos) << bad.err;
}
