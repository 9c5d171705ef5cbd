// Generation: KV cache gives the same tokens as full recomputation; sampling is seeded; EOS,
// context window and cancel end a run cleanly (#2).
#include "model_fixture.h"

#include "spyglass/error.h"
#include "spyglass/language_model.h"

using namespace spyglass::core;
using spyglass::test::fixture;

namespace {

}  // namespace

TEST(Generation, KvCacheMatchesRecomputation)
{
    auto model = spyglass::test::tinyGpt2();
    SamplingOptions o;
    o.maxNewTokens = 24;
    o.stopAtEos = false;
    const auto cached = model->generate(spyglass::test::kCommaPrompt, o);
    o.useKvCache = false;
    const auto full = model->generate(spyglass::test::kCommaPrompt, o);
    EXPECT_EQ(cached.generatedIds.size(), 24u);
    EXPECT_EQ(cached.generatedIds, full.generatedIds);
}

TEST(Generation, SeededSamplingReproducesAndDiffersFromGreedy)
{
    auto model = spyglass::test::tinyGpt2();
    SamplingOptions o;
    o.maxNewTokens = 12;
    o.temperature = 1.5F;
    o.topK = 50;
    o.topP = 0.95F;
    o.seed = 7;
    const auto a = model->generate(spyglass::test::kCommaPrompt, o);
    const auto b = model->generate(spyglass::test::kCommaPrompt, o);
    EXPECT_EQ(a.generatedIds, b.generatedIds);
    o.seed = 8;
    EXPECT_NE(model->generate(spyglass::test::kCommaPrompt, o).generatedIds, a.generatedIds);
}

TEST(Generation, StopsAtEos)
{
    // Declare the first greedy token (25804) the end-of-text token of a copy of the model.
    spyglass::test::TempDir dir;
    spyglass::test::copyModelFiles(dir.path(), true, [](nlohmann::json& c) { c["eos_token_id"] = 25804; });
    std::filesystem::create_symlink(fixture("gpt2-tiny-random/model.safetensors"), dir / "model.safetensors");
    auto model = LanguageModel::load(dir.path());
    SamplingOptions o;
    o.maxNewTokens = 10;
    const auto r = model->generate(spyglass::test::kCommaPrompt, o);
    EXPECT_TRUE(r.stoppedAtEos);
    EXPECT_EQ(r.generatedIds, std::vector<int>{25804});
    o.stopAtEos = false;
    EXPECT_EQ(model->generate(spyglass::test::kCommaPrompt, o).generatedIds.size(), 10u);
}

TEST(Generation, PromptLongerThanContextNamesBothLengths)
{
    auto model = spyglass::test::tinyGpt2();
    std::vector<int> longPrompt(129, 11);
    try {
        (void)model->generate(longPrompt, {});
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("the prompt has 129 tokens but the model's context window is 128 tokens"),
                  std::string::npos)
            << e.what();
    }
}

TEST(Generation, StopsAtTheContextLimitMidway)
{
    auto model = spyglass::test::tinyGpt2();
    std::vector<int> prompt(120, 11);
    SamplingOptions o;
    o.maxNewTokens = 50;
    o.stopAtEos = false;
    const auto r = model->generate(prompt, o);
    EXPECT_TRUE(r.stoppedAtContextLimit);
    EXPECT_EQ(r.promptIds.size() + r.generatedIds.size(), 128u);
}

TEST(Generation, BadIdsAreRejected)
{
    auto model = spyglass::test::tinyGpt2();
    EXPECT_THROW((void)model->generate({}, {}), Error);
    try {
        (void)model->generate({1, 50257}, {});
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("token id 50257 at position 1 is outside the vocabulary"),
                  std::string::npos);
    }
}

TEST(Generation, ProgressCancelsAndTokensStream)
{
    auto model = spyglass::test::tinyGpt2();
    SamplingOptions o;
    o.maxNewTokens = 10;
    o.stopAtEos = false;
    std::vector<int> streamed;
    EXPECT_THROW(model->generate(
                     spyglass::test::kCommaPrompt, o, [](const Progress& p) { return p.done < 3; },
                     [&](int id) { streamed.push_back(id); }),
                 Cancelled);
    EXPECT_EQ(streamed.size(), 3u);
    streamed.clear();
    const auto r = model->generate(spyglass::test::kCommaPrompt, o, {}, [&](int id) { streamed.push_back(id); });
    EXPECT_EQ(streamed, r.generatedIds);
}
