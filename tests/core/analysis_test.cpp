// The analysis engine against Ecco and the reference lens (gpt2-tiny-random/ecco.json): saliency
// rows within 1e-4, lens top-k exact, probabilities rtol 1e-4, ranks within the reference's
// 1e-4 band; the report's documented fields; one test per error case (#3).
#include "model_fixture.h"
#include "test_support.h"

#include "spyglass/analysis.h"
#include "spyglass/error.h"
#include "spyglass/report_json.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>

using namespace spyglass::core;
using nlohmann::json;
using spyglass::test::errorOf;
using spyglass::test::fixture;

namespace {

json ecco()
{
    std::ifstream in(fixture("gpt2-tiny-random/ecco.json"));
    return json::parse(in);
}

AnalysisOptions quick()
{
    AnalysisOptions o;
    o.maxNewTokens = 4;
    o.factorStabilitySeeds = 1;
    return o;
}

void expectRankInBand(int rank, const json& band, const std::string& where)
{
    EXPECT_GE(rank, band[0].get<int>()) << where;
    EXPECT_LE(rank, band[1].get<int>()) << where;
}

}  // namespace

TEST(AnalysisParity, SaliencyRowsEqualEcco)
{
    auto model = spyglass::test::tinyGpt2();
    AnalysisOptions o = quick();
    o.saliencyMethods = {SaliencyMethod::GradXInput, SaliencyMethod::Gradient};
    const Report r = analyze(*model, "1, 2, 3, 4,", o);
    const json e = ecco();
    ASSERT_EQ(r.tokens.size(), 12u);
    for (size_t j = 0; j < 4; ++j) {
        EXPECT_EQ(r.tokens[8 + j].id, e["generated_ids"][j].get<int>());
        for (size_t m = 0; m < 2; ++m) {
            const SaliencyRow& row = r.saliency[m].rows[j];
            EXPECT_EQ(row.position, static_cast<int>(8 + j));
            const auto expected = e["attribution"][m == 0 ? "grad_x_input" : "saliency"][j].get<std::vector<double>>();
            ASSERT_EQ(row.scores.size(), expected.size());
            for (size_t i = 0; i < expected.size(); ++i)
                EXPECT_NEAR(row.scores[i], expected[i], 1e-4) << name(r.saliency[m].method) << " row " << j;
        }
    }
}

TEST(AnalysisParity, NormedLensEqualsReference)
{
    auto model = spyglass::test::tinyGpt2();
    AnalysisOptions o = quick();
    o.lensTopK = 5;
    const Report r = analyze(*model, "1, 2, 3, 4,", o);
    const json e = ecco();
    ASSERT_TRUE(r.lens);
    EXPECT_EQ(r.lens->layers, (std::vector<std::string>{"embed", "block.0", "block.1"}));
    EXPECT_LT(r.lens->selfCheckMaxAbsDiff, 1e-4);
    for (size_t j = 0; j < 4; ++j) {
        const size_t position = 8 + j - 1;
        for (size_t l = 0; l < 2; ++l) {
            const json& ref = e["normed_lens"][j]["layers"][l];
            const LensCell& cell = r.lens->cells[l + 1][position];
            const std::string where = "token " + std::to_string(j) + " layer " + std::to_string(l);
            EXPECT_EQ(cell.topIds, ref["top_ids"].get<std::vector<int>>()) << where;
            for (size_t k = 0; k < 5; ++k)
                EXPECT_NEAR(cell.topProbs[k], ref["top_probs"][k].get<double>(),
                            1e-4 * ref["top_probs"][k].get<double>())
                    << where;
            expectRankInBand(*cell.nextRank, ref["rank_band_1e-4"], where);
            EXPECT_NEAR(*cell.nextProb, ref["prob_of_generated"].get<double>(),
                        1e-4 * ref["prob_of_generated"].get<double>())
                << where;
        }
    }
    EXPECT_FALSE(r.lens->cells[0].back().nextRank.has_value());
}

TEST(AnalysisParity, RawLensEqualsEccoBelowTheLastBlock)
{
    auto model = spyglass::test::tinyGpt2();
    AnalysisOptions o = quick();
    o.lensMode = LensMode::Raw;
    o.lensTopK = 5;
    const Report r = analyze(*model, "1, 2, 3, 4,", o);
    const json e = ecco();
    for (size_t j = 0; j < 4; ++j) {
        const LensCell& cell = r.lens->cells[1][8 + j - 1];  // block.0 = Ecco layer 0 (L−2 for L = 2)
        const json& pred = e["layer_predictions"][j]["layers"][0];
        EXPECT_EQ(cell.topIds, pred["top_ids"].get<std::vector<int>>()) << j;
        for (size_t k = 0; k < 5; ++k)
            EXPECT_NEAR(cell.topProbs[k], pred["top_probs"][k].get<double>(),
                        1e-4 * pred["top_probs"][k].get<double>());
        expectRankInBand(*cell.nextRank, e["rankings"]["rank_band_1e-4"][0][j], "ranking " + std::to_string(j));
    }
}

TEST(AnalysisParity, SublayerLensNamesAttentionAndMlpReadouts)
{
    auto model = spyglass::test::tinyGpt2();
    AnalysisOptions o = quick();
    o.lensMode = LensMode::Sublayer;
    o.saliencyMethods.clear();
    const Report r = analyze(*model, "1, 2, 3, 4,", o);
    EXPECT_EQ(r.lens->layers,
              (std::vector<std::string>{"embed", "block.0.attn", "block.0.mlp", "block.1.attn", "block.1.mlp"}));
    // The MLP read-out of the last block is the model's output: rank 1 for every generated token.
    for (size_t j = 0; j < 4; ++j) EXPECT_EQ(r.lens->cells[4][8 + j - 1].nextRank, 1);
}

TEST(Analysis, IntegratedGradientsAndOcclusion)
{
    auto model = spyglass::test::tinyGpt2();
    AnalysisOptions o = quick();
    o.maxNewTokens = 2;
    o.saliencyMethods = {SaliencyMethod::IntegratedGradients, SaliencyMethod::Occlusion};
    o.saliencyTarget = SaliencyTarget::Logit;
    const Report r = analyze(*model, "1, 2, 3, 4,", o);
    for (const auto& section : r.saliency) {
        for (const auto& row : section.rows) {
            double sum = 0;
            for (float s : row.scores) sum += s;
            EXPECT_NEAR(sum, 1.0, 1e-5) << name(section.method);
            EXPECT_EQ(row.scores.size(), static_cast<size_t>(row.position));
        }
    }
    // Completeness: Σ attributions ≈ f(x) − f(0), up to the Riemann error of 50 steps.
    ASSERT_TRUE(r.saliency[0].rows[0].completenessGap);
    EXPECT_LT(std::abs(*r.saliency[0].rows[0].completenessGap), 0.05);
    EXPECT_EQ(r.saliency[1].rows[0].raw.size(), 8u);
    o.occlusionReplace = true;
    o.saliencyMethods = {SaliencyMethod::Occlusion};
    const Report replaced = analyze(*model, "1, 2, 3, 4,", o);
    EXPECT_NE(replaced.saliency[0].rows[0].raw, r.saliency[1].rows[0].raw);
}

TEST(Analysis, FactorsAndProjectionCoverEveryPosition)
{
    auto model = spyglass::test::tinyGpt2();
    const Report r = analyze(*model, "1, 2, 3, 4,", quick());
    ASSERT_TRUE(r.factors && r.projection);
    EXPECT_EQ(r.factors->k, 10);
    EXPECT_EQ(r.factors->positions.size(), 12u);
    EXPECT_EQ(r.factors->strengths.size(), 10u);
    EXPECT_EQ(r.factors->strengths[0].size(), 12u);
    EXPECT_EQ(r.factors->loadings.shape, (std::vector<int64_t>{10, 512}));
    EXPECT_LT(r.factors->reconstructionError, r.factors->inputNorm);
    EXPECT_GT(r.factors->stability, 0.5);
    EXPECT_EQ(r.factors->topTokens.size(), 10u);
    EXPECT_EQ(r.factors->topTokens[0].size(), 2u);
    EXPECT_EQ(r.projection->points.size(), 12u);
    EXPECT_EQ(r.projection->clusters.size(), 12u);
    AnalysisOptions byFactor = quick();
    byFactor.clusterMethod = ClusterMethod::Nmf;
    const Report nmf = analyze(*model, "1, 2, 3, 4,", byFactor);
    EXPECT_EQ(nmf.projection->clusterMethod, ClusterMethod::Nmf);
    for (size_t p = 0; p < 12; ++p) {
        const int c = nmf.projection->clusters[p];
        const auto& row = nmf.factors->strengths[static_cast<size_t>(c)];
        const float scaled = row[p] / *std::max_element(row.begin(), row.end());
        for (int j = 0; j < nmf.factors->k; ++j) {
            const auto& other = nmf.factors->strengths[static_cast<size_t>(j)];
            EXPECT_LE(other[p] / *std::max_element(other.begin(), other.end()), scaled + 1e-6F);
        }
    }
    const Report again = analyze(*model, "1, 2, 3, 4,", quick());
    EXPECT_EQ(again.projection->points, r.projection->points);
    EXPECT_EQ(again.factors->strengths, r.factors->strengths);
}

TEST(Analysis, SubwordScoresSumToWords)
{
    auto model = spyglass::test::tinyGpt2();
    AnalysisOptions o = quick();
    o.maxNewTokens = 2;
    const Report r = analyze(*model, "Shakespeare wrote 1604 plays, really.", o);
    std::vector<std::string> words;
    for (const auto& w : r.words) words.push_back(w.text);
    // "Shakespeare" is several GPT-2 tokens; "1604" is "16" + "04"; punctuation stands alone.
    ASSERT_GE(words.size(), 7u);
    EXPECT_EQ(words[0], "Shakespeare");
    EXPECT_EQ(words[1], " wrote");
    EXPECT_EQ(words[2], " 1604");
    EXPECT_EQ(words[3], " plays");
    EXPECT_EQ(words[4], ",");
    const SaliencyRow& row = r.saliency[0].rows[0];
    double tokens = 0, grouped = 0;
    for (float s : row.scores) tokens += s;
    for (float s : row.wordScores) grouped += s;
    EXPECT_NEAR(grouped, tokens, 1e-5);
    EXPECT_GE(r.words[0].endToken, 2);  // more than one token
    float first = 0;
    for (int t = r.words[0].firstToken; t < r.words[0].endToken; ++t) first += row.scores[static_cast<size_t>(t)];
    EXPECT_NEAR(row.wordScores[0], first, 1e-6);
}

TEST(Analysis, RefactorChangesOnlyTheFactors)
{
    auto model = spyglass::test::tinyGpt2();
    const Report base = analyze(*model, "1, 2, 3, 4,", quick());
    AnalysisOptions o = quick();
    o.factorCount = 4;
    o.factorLayerBegin = 1;
    const Report r = refactor(*model, base, o);
    EXPECT_EQ(r.factors->k, 4);
    EXPECT_EQ(r.factors->layers, std::vector<int>{1});
    EXPECT_EQ(r.factors->loadings.shape, (std::vector<int64_t>{4, 256}));
    EXPECT_EQ(r.saliency[0].rows[1].scores, base.saliency[0].rows[1].scores);
    // The same settings as the full analysis give the same factors.
    AnalysisOptions same = quick();
    EXPECT_EQ(refactor(*model, base, same).factors->strengths, base.factors->strengths);
    o.factorCount = 13;
    EXPECT_THROW((void)refactor(*model, base, o), Error);
}

TEST(Analysis, ReprojectChangesOnlyTheMap)
{
    auto model = spyglass::test::tinyGpt2();
    const Report base = analyze(*model, "1, 2, 3, 4,", quick());
    AnalysisOptions o = quick();
    o.projectionLayer = 0;
    o.projectionSource = ProjectionSource::Resid;
    o.clusterCount = 2;
    const Report r = reproject(*model, base, o);
    EXPECT_EQ(r.projection->layer, 0);
    EXPECT_EQ(r.projection->source, ProjectionSource::Resid);
    EXPECT_EQ(r.projection->points.size(), 12u);
    EXPECT_EQ(*std::max_element(r.projection->clusters.begin(), r.projection->clusters.end()), 1);
    EXPECT_NE(r.projection->points, base.projection->points);
    EXPECT_EQ(r.factors->strengths, base.factors->strengths);
    EXPECT_EQ(reproject(*model, base, quick()).projection->points, base.projection->points);
}

TEST(Analysis, LensColumnsStreamAndEqualTheFinalLens)
{
    auto model = spyglass::test::tinyGpt2();
    for (LensMode mode : {LensMode::Normed, LensMode::Sublayer}) {
        AnalysisOptions o = quick();
        o.lensMode = mode;
        std::map<int, std::vector<LensCell>> live;
        std::vector<std::string> names;
        std::vector<int> generated;
        Report mirror;  // a front end's copy, grown from the same updates
        const Report r = analyze(*model, "1, 2, 3, 4,", o, {}, [&](const ReportUpdate& u, const Report& partial) {
            applyUpdate(mirror, u);
            EXPECT_EQ(mirror.tokens.size(), partial.tokens.size());
            if (const auto* column = std::get_if<LensColumnReady>(&u)) {
                live[column->position] = column->cells;
                names = column->layers;
                generated.push_back(partial.tokens.back().id);
            }
        });
        EXPECT_EQ(mirror.tokens.size(), r.tokens.size());
        ASSERT_TRUE(mirror.factors && mirror.projection);
        EXPECT_EQ(mirror.projection->points, r.projection->points);
        for (size_t j = 0; j < generated.size(); ++j) EXPECT_EQ(generated[j], r.tokens[8 + j].id);
        EXPECT_EQ(names, r.lens->layers);
        ASSERT_EQ(live.size(), 4u);
        for (const auto& [position, cells] : live) {
            EXPECT_GE(position, 7);
            for (size_t l = 0; l < cells.size(); ++l) {
                const LensCell& final = r.lens->cells[l][static_cast<size_t>(position)];
                EXPECT_EQ(cells[l].topIds, final.topIds) << name(mode) << " " << position << " " << l;
                EXPECT_EQ(cells[l].nextRank, final.nextRank);
                EXPECT_NEAR(*cells[l].nextProb, *final.nextProb, 1e-4 * *final.nextProb);
            }
        }
    }
}

TEST(Analysis, RowsStreamAndCancelStops)
{
    auto model = spyglass::test::tinyGpt2();
    int rows = 0;
    std::vector<std::string> stages;
    (void)analyze(*model, "1, 2, 3, 4,", quick(), {}, [&](const ReportUpdate& u, const Report& partial) {
        stages.emplace_back(updateStageName(u));
        if (std::holds_alternative<SaliencyRowReady>(u)) {
            ++rows;
            // The engine's partial report already holds the row and the token it explains.
            const auto& ready = std::get<SaliencyRowReady>(u);
            EXPECT_EQ(partial.saliency[ready.section].rows.back().position, ready.row.position);
            EXPECT_EQ(partial.tokens.at(static_cast<size_t>(ready.row.position)).id, ready.row.tokenId);
        }
    });
    EXPECT_EQ(rows, 4);  // one method, four tokens
    ASSERT_FALSE(stages.empty());
    EXPECT_EQ(stages.front(), "tokens");
    EXPECT_EQ(stages[1], "token");
    EXPECT_EQ(stages[stages.size() - 2], "factors");
    EXPECT_EQ(stages.back(), "projection");
    EXPECT_THROW((void)analyze(*model, "1, 2, 3, 4,", quick(), [](const Progress& p) { return p.stage != "factors"; }),
                 Cancelled);
}

TEST(Analysis, SampledTokensEqualGenerateWithTheSameSeed)
{
    auto model = spyglass::test::tinyGpt2();
    AnalysisOptions o = quick();
    o.maxNewTokens = 6;
    o.temperature = 1.5F;
    o.sampleTopK = 40;
    o.sampleTopP = 0.95F;
    o.factors = false;
    o.projection = false;
    const std::vector<int> prompt = model->encode("1, 2, 3, 4,");
    SamplingOptions s{.maxNewTokens = 6,
                      .temperature = 1.5F,
                      .topK = 40,
                      .topP = 0.95F,
                      .seed = 0,
                      .stopAtEos = true,
                      .useKvCache = false};
    std::set<std::vector<int>> distinct;
    for (uint64_t seed : {1u, 2u, 3u}) {
        o.seed = s.seed = seed;
        const Report r = analyze(*model, "1, 2, 3, 4,", o);
        std::vector<int> generated;
        for (const auto& t : r.tokens)
            if (t.generated) generated.push_back(t.id);
        EXPECT_EQ(generated, model->generate(prompt, s).generatedIds) << "seed " << seed;
        ASSERT_EQ(r.saliency.front().rows.size(), generated.size());
        for (size_t i = 0; i < generated.size(); ++i) EXPECT_EQ(r.saliency.front().rows[i].tokenId, generated[i]);
        EXPECT_NE(r.settingsJson.find("\"temperature\":1.5"), std::string::npos) << r.settingsJson;
        distinct.insert(generated);
    }
    EXPECT_GT(distinct.size(), 1U) << "sampling ignored the seed";
    o.temperature = -1;
    EXPECT_NE(errorOf([&] { (void)analyze(*model, "1, 2,", o); }).find("temperature: must be ≥ 0"), std::string::npos);
    o.temperature = 1;
    o.sampleTopP = 0;
    EXPECT_NE(errorOf([&] { (void)analyze(*model, "1, 2,", o); }).find("sampleTopP: must be in (0, 1]"),
              std::string::npos);
}

TEST(AnalysisErrors, OneMessagePerCase)
{
    auto model = spyglass::test::tinyGpt2();
    AnalysisOptions o = quick();
    EXPECT_NE(errorOf([&] { (void)analyze(*model, "", o); }).find("the prompt is empty"), std::string::npos);
    std::string longPrompt;
    for (int i = 0; i < 130; ++i) longPrompt += " a";
    EXPECT_NE(errorOf([&] { (void)analyze(*model, longPrompt, o); }).find("context window is 128 tokens"),
              std::string::npos);
    o.factorCount = 13;
    EXPECT_NE(errorOf([&] {
                  (void)analyze(*model, "1, 2, 3, 4,", o);
              }).find("factorCount: 13 is larger than the number of positions (12)"),
              std::string::npos);
    o = quick();
    o.saliencyMethods = {static_cast<SaliencyMethod>(7)};  // only a cast can make one outside the table
    EXPECT_NE(
        errorOf([&] { (void)analyze(*model, "1, 2, 3, 4,", o); }).find("saliencyMethods: unknown saliency method"),
        std::string::npos);
    EXPECT_EQ(parseName<LensMode>("tuned"), std::nullopt);
    EXPECT_NE(errorOf([&] {
                  (void)parseNameOrThrow<LensMode>("tuned");
              }).find("unknown lens mode 'tuned' (normed, raw or sublayer)"),
              std::string::npos);
    o = quick();
    o.factorLayerBegin = 1;
    o.factorLayerEnd = 5;
    EXPECT_NE(errorOf([&] { (void)analyze(*model, "1, 2, 3, 4,", o); }).find("factorLayers: 1:5"), std::string::npos);
    o = quick();
    o.projectionMethod = ProjectionMethod::Umap;
    EXPECT_NE(errorOf([&] { (void)analyze(*model, "1, 2, 3, 4,", o); }).find("umap is not available"),
              std::string::npos);
}

TEST(Report, JsonHasEveryDocumentedFieldAndRoundTrips)
{
    auto model = spyglass::test::tinyGpt2();
    AnalysisOptions o = quick();
    o.saliencyMethods = {SaliencyMethod::GradXInput, SaliencyMethod::Occlusion};
    const Report r = analyze(*model, "1, 2, 3, 4,", o);
    const json j = json::parse(reportToJson(r));
    EXPECT_EQ(j["schema"], "spyglass.report/1");
    for (const char* key : {"path", "architecture", "n_layer", "n_head", "d_model", "vocab_size", "sha256"})
        EXPECT_TRUE(j["model"].contains(key)) << key;
    EXPECT_EQ(j["model"]["sha256"].get<std::string>().size(), 64u);
    for (const char* key : {"prompt", "max_new_tokens", "saliency", "lens", "factors", "projection", "seed"})
        EXPECT_TRUE(j["settings"].contains(key)) << key;
    EXPECT_EQ(j["tokens"][0], json({{"id", 16}, {"text", "1"}, {"offset", {0, 1}}, {"generated", false}}));
    EXPECT_TRUE(j["tokens"][8]["offset"].is_null());
    EXPECT_TRUE(j["tokens"][8]["generated"].get<bool>());
    const json& row = j["saliency"][0]["rows"][0];
    EXPECT_EQ(row["position"], 8);
    EXPECT_EQ(row["scores"].size(), 8u);
    EXPECT_TRUE(j["saliency"][1]["rows"][0].contains("raw"));
    for (const char* key : {"mode", "layers", "top_k", "cells"}) EXPECT_TRUE(j["lens"].contains(key)) << key;
    for (const char* key : {"top_ids", "top_probs", "next_rank", "next_prob", "entropy"})
        EXPECT_TRUE(j["lens"]["cells"][1][0].contains(key)) << key;
    EXPECT_TRUE(j["lens"]["cells"][1][11]["next_rank"].is_null());
    for (const char* key : {"source", "layers", "k", "positions", "strengths", "reconstruction_error"})
        EXPECT_TRUE(j["factors"].contains(key)) << key;
    for (const char* key : {"layer", "method", "points", "clusters"}) EXPECT_TRUE(j["projection"].contains(key)) << key;

    spyglass::test::TempDir dir;
    writeReport(r, dir / "r.json");
    const Report back = readReport(dir / "r.json");
    EXPECT_EQ(reportToJson(back).size() > 0, true);
    EXPECT_EQ(back.tokens.size(), r.tokens.size());
    EXPECT_EQ(back.saliency[0].rows[3].scores, r.saliency[0].rows[3].scores);
    EXPECT_EQ(back.lens->cells[2][5].topIds, r.lens->cells[2][5].topIds);
    EXPECT_EQ(back.factors->strengths, r.factors->strengths);
    EXPECT_EQ(back.projection->clusters, r.projection->clusters);
    EXPECT_EQ(back.projection->explainedVariance, r.projection->explainedVariance);
    EXPECT_EQ(back.words.size(), r.words.size());
    EXPECT_EQ(back.tokenTexts, r.tokenTexts);
    spyglass::test::writeFile(dir / "bad.json", R"({"schema":"other/1"})");
    EXPECT_NE(errorOf([&] { (void)readReport(dir / "bad.json"); }).find("schema 'other/1' is not spyglass.report/1"),
              std::string::npos);
    // Found by tests/fuzz (report_fuzzer): a token_texts key that is not a number threw
    // std::invalid_argument instead of a clear message.
    std::ifstream good(dir / "r.json");
    nlohmann::json broken = nlohmann::json::parse(good);
    broken["token_texts"]["x7"] = "oops";
    spyglass::test::writeFile(dir / "keys.json", broken.dump());
    EXPECT_NE(errorOf([&] { (void)readReport(dir / "keys.json"); }).find("token_texts key 'x7' is not a token id"),
              std::string::npos);
    // Found by tests/fuzz (session_fuzzer): the report inside a session is read from a string,
    // where a word without "tokens" let nlohmann's out_of_range escape (readReport caught it).
    broken = nlohmann::json::parse(std::ifstream(dir / "r.json"));
    broken["words"][0].erase("tokens");
    EXPECT_NE(errorOf([&] {
                  (void)reportFromJson(broken.dump(), "session.spyglass");
              }).find("session.spyglass: unexpected structure: "),
              std::string::npos);
}
