// A/B comparison: the token alignment (longest common subsequence, by hand), both runs equal to
// analysing each prompt alone, and the joint factors fitted on both runs' own MLP activations
// (their reconstruction error recomputed here from traces of each prompt); the CLI's `ab`.
#include "cli_support.h"
#include "model_fixture.h"
#include "test_support.h"

#include "spyglass/analysis.h"
#include "spyglass/error.h"
#include "spyglass/prompt_comparison.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using namespace spyglass::core;
using nlohmann::json;
using spyglass::test::cli;
using spyglass::test::errorOf;
using spyglass::test::fixture;
using spyglass::test::TempDir;

TEST(PromptComparison, AlignsTokensByTheLongestCommonSubsequence)
{
    using P = TokenPair;
    EXPECT_EQ(alignTokens({"a", "b", "c"}, {"a", "b", "c"}), (std::vector<P>{{0, 0}, {1, 1}, {2, 2}}));
    EXPECT_EQ(alignTokens({"The", " cat", " sat"}, {"The", " dog", " sat"}),
              (std::vector<P>{{0, 0}, {1, -1}, {-1, 1}, {2, 2}}));
    EXPECT_EQ(alignTokens({"1", ",", "2"}, {"1", ",", " and", "2"}), (std::vector<P>{{0, 0}, {1, 1}, {-1, 2}, {2, 3}}));
    EXPECT_EQ(alignTokens({}, {"x"}), (std::vector<P>{{-1, 0}}));
    EXPECT_EQ(alignTokens({"x", "y"}, {}), (std::vector<P>{{0, -1}, {1, -1}}));
    // The common subsequence is the longest: "b c d" (3), not the earlier "a".
    const auto pairs = alignTokens({"a", "b", "c", "d"}, {"b", "c", "d", "a"});
    EXPECT_EQ(std::count_if(pairs.begin(), pairs.end(), [](const P& p) { return p.a >= 0 && p.b >= 0; }), 3);
    const std::vector<std::string> big(6000, "x");
    EXPECT_NE(errorOf([&] { (void)alignTokens(big, big); }).find("too large"), std::string::npos);
}

TEST(PromptComparison, BothRunsAndTheJointFactorsAreThoseOfEachPromptsOwnActivations)
{
    auto model = spyglass::test::tinyGpt2();
    AnalysisOptions o;
    o.maxNewTokens = 3;
    o.factorCount = 3;
    o.factorStabilitySeeds = 0;
    o.projection = false;
    const PromptComparison c = comparePrompts(*model, "1, 2, 3, 4,", "1, 2, 7, 4,", o);
    AnalysisOptions alone = o;
    alone.factors = false;
    const Report a = analyze(*model, "1, 2, 3, 4,", alone);
    ASSERT_EQ(c.a.tokens.size(), a.tokens.size());
    for (size_t i = 0; i < a.tokens.size(); ++i) EXPECT_EQ(c.a.tokens[i].id, a.tokens[i].id);
    EXPECT_EQ(c.a.saliency[0].rows[1].scores, a.saliency[0].rows[1].scores);
    EXPECT_FALSE(c.a.factors || c.b.factors);
    // " 3" ↔ " 7" is the only difference in the prompts.
    int gaps = 0;
    for (const TokenPair& p : c.alignment)
        if (p.a < 0 || p.b < 0) ++gaps;
    EXPECT_GE(gaps, 2);
    EXPECT_EQ(c.alignment.front(), (TokenPair{0, 0}));

    // Joint factors: X = [mlp_act of A; mlp_act of B] (each from its own forward pass), clipped at
    // 0, layer-major; ‖X − W H‖ recomputed from the strengths and loadings equals the reported one.
    ASSERT_TRUE(c.factors);
    const FactorSection& f = *c.factors;
    const size_t ta = c.a.tokens.size(), tb = c.b.tokens.size();
    ASSERT_EQ(f.positions.size(), ta + tb);
    ASSERT_EQ(f.loadings.shape, (std::vector<int64_t>{3, 2 * 256}));
    std::vector<std::vector<float>> x;
    for (const Report* r : {&c.a, &c.b}) {
        std::vector<int> ids;
        for (const auto& t : r->tokens) ids.push_back(t.id);
        const auto trace = model->trace(ids, kCaptureMlpAct);
        for (size_t p = 0; p < ids.size(); ++p) {
            std::vector<float> row;
            for (int l = 0; l < 2; ++l)
                for (int64_t n = 0; n < 256; ++n)
                    row.push_back(
                        std::max(0.0F, trace.at("mlp_act." + std::to_string(l)).at({static_cast<int64_t>(p), n})));
            x.push_back(std::move(row));
        }
    }
    double error = 0;
    for (size_t p = 0; p < x.size(); ++p)
        for (size_t n = 0; n < x[p].size(); ++n) {
            double wh = 0;
            for (int k = 0; k < 3; ++k)
                wh += static_cast<double>(f.strengths[static_cast<size_t>(k)][p]) *
                      f.loadings.values[static_cast<size_t>(k) * 512 + n];
            error += (x[p][n] - wh) * (x[p][n] - wh);
        }
    EXPECT_NEAR(std::sqrt(error), f.reconstructionError, 1e-3 * f.inputNorm);
    EXPECT_EQ(sideStrengths(c, true)[0].size(), tb);
    EXPECT_EQ(sideStrengths(c, false)[2].size(), ta);

    const json j = json::parse(promptComparisonJson(c));
    EXPECT_EQ(j["schema"], "spyglass.ab/1");
    EXPECT_EQ(j["a"]["prompt"], "1, 2, 3, 4,");
    EXPECT_EQ(j["alignment"].size(), c.alignment.size());
    EXPECT_EQ(j["factors"]["strengths_b"][0].size(), tb);
    EXPECT_FALSE(j["settings"].contains("prompt"));
}

TEST(PromptComparison, DerivedRowsFollowTheirDefinitions)
{
    Report r;
    r.tokens.resize(4);
    SaliencySection s;
    s.rows.push_back({2, 0, {0.25F, 0.75F}});
    s.rows.push_back({3, 0, {0.5F, 0.25F, 0.25F}});
    r.saliency.push_back(s);
    EXPECT_EQ(saliencyReceived(r), (std::vector<float>{0.375F, 0.5F, 0.25F, 0.0F}));
    LensSection lens;
    lens.cells.assign(3, std::vector<LensCell>(4));
    lens.cells[1][0].nextRank = 1;
    lens.cells[2][0].nextRank = 1;
    lens.cells[2][2].nextRank = 1;
    lens.cells[0][1].nextRank = 4;
    r.lens = lens;
    EXPECT_EQ(firstTopLayer(r), (std::vector<int>{1, -1, 2, -1}));
}

TEST(PromptComparisonCli, WritesTheComparisonAndBothReports)
{
    TempDir dir;
    const std::string m = fixture("gpt2-tiny-random").string();
    auto r = cli({"ab", "--model", m, "--prompt-a", "1, 2, 3, 4,", "--prompt-b", "1, 2, 7, 4,", "--max-new-tokens", "2",
                  "--factors", "3", "--out", (dir / "ab.json").string(), "--reports", (dir / "r").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    std::ifstream in(dir / "ab.json");
    const json j = json::parse(in);
    EXPECT_EQ(j["schema"], "spyglass.ab/1");
    EXPECT_EQ(j["factors"]["k"], 3);
    EXPECT_TRUE(std::filesystem::exists(dir / "r" / "a.json"));
    EXPECT_TRUE(std::filesystem::exists(dir / "r" / "b.json"));
    r = cli({"ab", "--model", m, "--prompt-a", "1,", "--out", (dir / "x.json").string()});
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("--prompt-b"), std::string::npos) << r.err;
}
