// The shipped default model (#5): loads through the normal path, counts, recalls, and its card's
// files are present.
#include "test_support.h"

#include "spyglass/language_model.h"

#include <filesystem>

using namespace spyglass::core;

namespace {
const std::filesystem::path kShippedModel =
    std::filesystem::path(SPYGLASS_FIXTURES_DIR) / "../../resources/models/spyglass-tiny";
}

TEST(DefaultModel, LoadsAndCounts)
{
    auto model = LanguageModel::load(kShippedModel);
    EXPECT_EQ(model->info().architecture, "gpt2");
    EXPECT_EQ(model->info().layerCount, 6);
    EXPECT_LE(std::filesystem::file_size(kShippedModel / "model.safetensors"), 20u * 1024 * 1024);
    SamplingOptions o;
    o.maxNewTokens = 9;
    EXPECT_EQ(model->tokenizer()->decode(model->generate(model->encode("1, 2, 3,"), o).generatedIds), " 4, 5, 6,");
    o.maxNewTokens = 4;
    EXPECT_EQ(model->tokenizer()
                  ->decode(model->generate(model->encode("Days of the week: Monday,"), o).generatedIds)
                  .substr(0, 8),
              " Tuesday");
    for (const char* file :
         {"README.md", "recipe.json", "training_log.tsv", "eval.json", "tokenizer.json", "config.json"})
        EXPECT_TRUE(std::filesystem::exists(kShippedModel / file)) << file;
}
