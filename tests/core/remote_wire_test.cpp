// What the Remote device's "lab", "patch" and "compare" answers and "analyze"'s stage updates
// carry (#19 item 3): the prompt lab's options, report and images, a patching result, a whole A/B
// comparison and every kind of analysis stage each survive their encoding exactly (a report built
// from the decoded stages equals one built from the originals); broken ones are named. And where A1111
// LoRA tags' files are found (spyglass/lora_files.h), which the server and the app share.
#include "test_support.h"

#include "spyglass/error.h"
#include "spyglass/lab_remote.h"
#include "spyglass/lora_files.h"
#include "spyglass/patching.h"
#include "spyglass/prompt_comparison.h"
#include "spyglass/report_json.h"
#include "spyglass/report_update_json.h"

#include <gtest/gtest.h>

#include <functional>

using namespace spyglass::core;
using spyglass::test::errorOf;
using spyglass::test::TempDir;
using spyglass::test::writeFile;

namespace {

ReportToken token(int id, const char* text, bool generated = false)
{
    ReportToken t;
    t.id = id;
    t.text = text;
    t.generated = generated;
    return t;
}

LabReport sampleLabReport()
{
    LabReport r;
    r.fullPrompt = "a hand, masterpiece, striped";
    r.basePrompt = "a hand";
    r.shortenedPrompt = "a hand, striped";
    r.regionArea = 0.25;
    r.changeThreshold = 0.02;
    ChunkScore striped;
    striped.index = 1;
    striped.chunk = "striped";
    striped.inside = 0.125;
    striped.outside = 0.0625;
    striped.insideSpread = 0.01;
    striped.structureInside = 0.3;
    striped.heatInside = 0.7;
    striped.otherHeatChange = 0.05;
    striped.addedInside = 0.1;
    striped.addedOutside = 0.2;
    striped.verdict = Verdict::ChangesRegion;
    ChunkScore magic;
    magic.chunk = "masterpiece";
    magic.inside = 0.001;
    r.scores = {striped, magic};
    r.shortenedInside = 0.004;
    r.shortenedRun = true;
    return r;
}

LabImages sampleImages()
{
    LabImages images;
    images.width = 3;
    images.height = 2;
    const auto rgb = [](uint8_t start) {
        std::vector<uint8_t> v;
        for (int i = 0; i < 18; ++i) v.push_back(static_cast<uint8_t>(start + i));
        return v;
    };
    images.full = rgb(0);
    images.base = rgb(20);
    images.shortened = rgb(40);
    images.without = {rgb(60), rgb(80)};
    return images;
}

}  // namespace

TEST(LabRemote, OptionsReportAndImagesRoundTrip)
{
    LabOptions o;
    o.base = "a hand <lora:detail:0.6>";
    o.chunks = {"masterpiece", "<lora:x:0.5>"};
    o.negative = "blurry";
    o.seeds = {3, 18446744073709551615ULL};
    o.steps = 7;
    o.guidance = 6.25;
    o.scheduler = "euler";
    o.width = 64;
    o.height = 32;
    o.addOne = true;
    o.changeThreshold = 0.05;
    const LabOptions again = labOptionsFromJson(labOptionsToJson(o), "t");
    EXPECT_EQ(again.base, o.base);
    EXPECT_EQ(again.chunks, o.chunks);
    EXPECT_EQ(again.negative, o.negative);
    EXPECT_EQ(again.seeds, o.seeds);
    EXPECT_EQ(again.steps, 7);
    EXPECT_EQ(again.guidance, 6.25);
    EXPECT_EQ(again.scheduler, "euler");
    EXPECT_EQ(again.width, 64);
    EXPECT_EQ(again.height, 32);
    EXPECT_TRUE(again.addOne);
    EXPECT_EQ(again.changeThreshold, 0.05);

    nlohmann::json header{{"type", "result"}};
    std::vector<std::pair<std::string, std::string>> payloads;
    encodeLabAnswer(sampleLabReport(), sampleImages(), header, payloads);
    const auto [report, images] = decodeLabAnswer(Frame{header, payloads}, "gpu");
    const LabReport expected = sampleLabReport();
    EXPECT_EQ(report.fullPrompt, expected.fullPrompt);
    EXPECT_EQ(report.shortenedPrompt, expected.shortenedPrompt);
    EXPECT_EQ(report.regionArea, 0.25);
    EXPECT_TRUE(report.shortenedRun);
    ASSERT_EQ(report.scores.size(), 2U);
    EXPECT_EQ(report.scores[0].index, 1);
    EXPECT_EQ(report.scores[0].inside, 0.125);
    EXPECT_EQ(report.scores[0].heatInside, 0.7);
    EXPECT_EQ(report.scores[0].addedOutside, std::optional<double>(0.2));
    EXPECT_EQ(report.scores[0].verdict, Verdict::ChangesRegion);
    EXPECT_FALSE(report.scores[1].addedInside.has_value());
    EXPECT_EQ(report.scores[1].verdict, Verdict::NoEffect);
    const LabImages sample = sampleImages();
    EXPECT_EQ(images.width, 3);
    EXPECT_EQ(images.full, sample.full);
    EXPECT_EQ(images.shortened, sample.shortened);
    EXPECT_EQ(images.without, sample.without);
}

TEST(LabRemote, BrokenAnswersAreNamed)
{
    nlohmann::json header{{"type", "result"}};
    std::vector<std::pair<std::string, std::string>> payloads;
    encodeLabAnswer(sampleLabReport(), sampleImages(), header, payloads);
    const auto message = [&](const std::function<void(Frame&)>& damage) {
        Frame f{header, payloads};
        damage(f);
        return errorOf([&] { (void)decodeLabAnswer(f, "gpu"); });
    };
    EXPECT_EQ(message([](Frame& f) { f.payloads.pop_back(); }),
              "gpu: the lab result's image 'without/1' is missing or of the wrong size");
    EXPECT_EQ(message([](Frame& f) { f.payloads[0].second.pop_back(); }),
              "gpu: the lab result's image 'full' is missing or of the wrong size");
    EXPECT_EQ(message([](Frame& f) { f.header["lab"]["width"] = -3; }), "gpu: the lab result has a bad image size");
    EXPECT_EQ(message([](Frame& f) { f.header["lab"]["without"] = 1000000; }),
              "gpu: the lab result announces more images than it carries");
    EXPECT_EQ(message([](Frame& f) { f.header["lab"]["without"] = 1; }),
              "gpu: the lab result scores chunk 1 without its image");
    EXPECT_EQ(message([](Frame& f) { f.header["lab"]["report"]["scores"][0]["verdict"] = "maybe"; }),
              "gpu: lab.scores[].verdict 'maybe' is not a verdict (changes the region, changes only elsewhere or no "
              "measurable effect — can be deleted)");
    EXPECT_EQ(message([](Frame& f) { f.header["lab"]["report"]["scores"][0]["inside"] = "big"; }),
              "gpu: lab.scores[].inside has the wrong type");
    EXPECT_EQ(message([](Frame& f) { f.header["lab"].erase("report"); }), "gpu: lab.report must be an object");
    EXPECT_EQ(message([](Frame& f) { f.header.erase("lab"); }), "gpu: the answer holds no lab result");
    EXPECT_EQ(errorOf([] {
                  (void)labOptionsFromJson({{"seeds", {1, "two"}}}, "r");
              }),
              "r: options.seeds has an item of the wrong type");
}

TEST(PatchJson, AResultRoundTripsAndBrokenOnesAreNamed)
{
    PatchResult r;
    r.site = PatchSite::Head;
    r.layers = {0, 1};
    r.positions = {0, 1, 2};
    r.cleanMetric = 2.5;
    r.corruptMetric = -1.25;
    r.metric = {{1, 2, 3}, {4, 5, 6}};
    r.effect = {{0.1, 0.2, 0.3}, {0.4, 0.5, 0.6}};
    r.wholeLayerEffect = {0.7, 0.8};
    const std::string json = patchResultJson(r, R"({"clean_tokens": ["a"]})");
    const PatchResult again = patchResultFromJson(json, "p");
    EXPECT_EQ(again.site, PatchSite::Head);
    EXPECT_EQ(again.layers, r.layers);
    EXPECT_EQ(again.positions, r.positions);
    EXPECT_EQ(again.cleanMetric, 2.5);
    EXPECT_EQ(again.corruptMetric, -1.25);
    EXPECT_EQ(again.metric, r.metric);
    EXPECT_EQ(again.effect, r.effect);
    EXPECT_EQ(again.wholeLayerEffect, r.wholeLayerEffect);

    const auto broken = [&](const std::function<void(nlohmann::json&)>& damage) {
        nlohmann::json j = nlohmann::json::parse(json);
        damage(j);
        return errorOf([&] { (void)patchResultFromJson(j.dump(), "p"); });
    };
    EXPECT_EQ(broken([](auto& j) { j["effect"][1].erase(0); }), "p: effect has a row of 2 values, not 3");
    EXPECT_EQ(broken([](auto& j) { j["effect"].erase(1); }), "p: effect must be a list of 2 rows");
    EXPECT_EQ(broken([](auto& j) { j["site"] = "nose"; }),
              "p: site: unknown site 'nose' (resid_pre, attn_out, mlp_out or head)");
    EXPECT_EQ(broken([](auto& j) { j["heads"][0] = -4; }), "p: heads has an item that is not an index");
    EXPECT_EQ(broken([](auto& j) { j["whole_layer_effect"] = {1}; }),
              "p: whole_layer_effect must have one value per layer");
    EXPECT_EQ(broken([](auto& j) { j["format"] = "x"; }), "p: format is not spyglass.patch/1");
    EXPECT_EQ(errorOf([] { (void)patchResultFromJson("[1", "p"); }), "p: not a JSON object");
}

TEST(ComparisonWire, AWholeComparisonRoundTripsAndBrokenOnesAreNamed)
{
    PromptComparison c;
    c.a.tokens = {token(16, "1"), token(11, ",")};
    c.b.tokens = {token(17, "2"), token(11, ","), token(18, "3", true)};
    c.a.model.architecture = c.b.model.architecture = "gpt2";
    SaliencySection s;
    s.rows.resize(1);
    s.rows[0].position = 2;
    s.rows[0].tokenId = 18;
    s.rows[0].scores = {1.0F, 0.0F};
    c.b.saliency = {s};
    c.alignment = {{0, -1}, {-1, 0}, {1, 1}, {-1, 2}};
    FactorSection f;
    f.k = 2;
    f.layers = {0, 1};
    f.positions = {0, 1, 2, 3, 4};
    f.strengths = {{1, 2, 3, 4, 5}, {0.5F, 0, 0, 0, 0.25F}};
    f.reconstructionError = 0.5;
    c.factors = f;
    const std::string wire = comparisonToWire(c);
    const PromptComparison again = comparisonFromWire(wire, "ab");
    EXPECT_EQ(again.alignment, c.alignment);
    ASSERT_EQ(again.b.tokens.size(), 3U);
    EXPECT_EQ(again.b.tokens[2].text, std::optional<std::string>("3"));
    EXPECT_TRUE(again.b.tokens[2].generated);
    ASSERT_EQ(again.b.saliency.size(), 1U);
    EXPECT_EQ(again.b.saliency[0].rows[0].scores, s.rows[0].scores);
    ASSERT_TRUE(again.factors.has_value());
    EXPECT_EQ(again.factors->strengths, f.strengths);
    EXPECT_EQ(sideStrengths(again, true), sideStrengths(c, true));

    const auto broken = [&](const std::function<void(nlohmann::json&)>& damage) {
        nlohmann::json j = nlohmann::json::parse(wire);
        damage(j);
        return errorOf([&] { (void)comparisonFromWire(j.dump(), "ab"); });
    };
    EXPECT_EQ(broken([](auto& j) {
                  j["alignment"][0] = {5, 0};
              }),
              "ab: alignment has a pair outside the two prompts' tokens");
    EXPECT_EQ(broken([](auto& j) {
                  j["alignment"][0] = {-1, -1};
              }),
              "ab: alignment has a pair outside the two prompts' tokens");
    EXPECT_EQ(broken([](auto& j) { j["alignment"][0] = "x"; }),
              "ab: alignment has an item that is not a pair of indices");
    EXPECT_EQ(broken([](auto& j) { j["factors"]["strengths"][1].erase(4); }),
              "ab: the joint factors' strengths are not k rows over both prompts' tokens");
    EXPECT_EQ(broken([](auto& j) { j.erase("b"); }), "ab: the report b is missing");
    EXPECT_EQ(broken([](auto& j) { j["schema"] = "other"; }), "ab: not a spyglass.ab-wire/1 document");
}

// NAME.safetensors beside the listed LoRAs, else in the model's folder; a file already listed gets
// the tag's weight; a chunk's LoRA leaves the always-on list; a run with tags loads their files.
TEST(LoraFiles, TagsAreFoundBesideTheListedLorasOrTheModel)
{
    TempDir dir;
    std::filesystem::create_directories(dir / "model");
    std::filesystem::create_directories(dir / "loras");
    writeFile(dir / "model" / "inmodel.safetensors", "x");
    writeFile(dir / "loras" / "listed.safetensors", "x");
    writeFile(dir / "loras" / "beside.safetensors", "x");
    const auto model = dir / "model";

    DiffusionLoadOptions load;
    load.loras = {{dir / "loras" / "listed.safetensors", 1.0}};
    EXPECT_EQ(findLoraFile("beside", model, load.loras), dir / "loras" / "beside.safetensors");
    EXPECT_EQ(findLoraFile("inmodel", model, {}), dir / "model" / "inmodel.safetensors");
    EXPECT_EQ(findLoraFile("inmodel", dir / "model" / "single.safetensors", {}),
              dir / "model" / "inmodel.safetensors");  // a single-file checkpoint's folder
    EXPECT_TRUE(findLoraFile("nowhere", model, load.loras).empty());

    std::string prompt = "a hand <lora:listed:0.5> <lora:inmodel>";
    resolvePromptLoras(prompt, model, load);
    EXPECT_EQ(prompt, "a hand  ");
    ASSERT_EQ(load.loras.size(), 2U);
    EXPECT_EQ(load.loras[0].strength, 0.5);  // the listed file, at the tag's weight
    EXPECT_EQ(load.loras[1].path, dir / "model" / "inmodel.safetensors");
    std::string missing = "x <lora:nowhere:1>";
    EXPECT_EQ(errorOf([&] { resolvePromptLoras(missing, model, load); }),
              "the prompt's <lora:nowhere> was not found beside the listed LoRAs or the model (nowhere.safetensors)");

    LabOptions o;
    o.base = "a hand <lora:inmodel:0.3>";
    o.chunks = {"masterpiece", "<lora:listed:0.8>"};
    DiffusionLoadOptions labLoad;
    labLoad.loras = {{dir / "loras" / "listed.safetensors", 1.0}};
    LoraFiles files;
    resolveLabLoras(o, model, labLoad, files);
    EXPECT_EQ(o.base, "a hand ");
    EXPECT_EQ(o.chunks[1], "<lora:listed:0.8>");  // chunks keep their tags: they choose the model per run
    ASSERT_EQ(files.size(), 1U);
    EXPECT_EQ(files.at("listed"), dir / "loras" / "listed.safetensors");
    ASSERT_EQ(labLoad.loras.size(), 1U);  // the chunk's LoRA left the always-on list
    EXPECT_EQ(labLoad.loras[0].path, dir / "model" / "inmodel.safetensors");

    const DiffusionLoadOptions run = withLoraTags(labLoad, {{"listed", 0.8}}, files);
    ASSERT_EQ(run.loras.size(), 2U);
    EXPECT_EQ(run.loras[1].strength, 0.8);
    EXPECT_EQ(errorOf([&] {
                  (void)withLoraTags(labLoad, {{"other", 1}}, files);
              }),
              "the LoRA chunk <lora:other> names no file found beside the listed LoRAs or the model");
}

TEST(ReportUpdateJson, EveryStageRoundTripsAndBuildsTheSameReport)
{
    AnalysisStarted started;
    started.model = {"m", "gpt2", "abc", 2, 2, 8, 50};
    started.saliency = {SaliencySection{SaliencyMethod::GradXInput, SaliencyTarget::Prob, {}},
                        SaliencySection{SaliencyMethod::Occlusion, SaliencyTarget::Logit, {}}};
    started.promptTokens = {token(16, "1", false), token(11, ",", false)};
    TokenGenerated generated{token(362, " 2", true)};
    generated.token.logProb = -0.5F;
    SaliencyRowReady row;
    row.section = 1;
    row.row.position = 2;
    row.row.tokenId = 362;
    row.row.scores = {0.25F, 0.75F};
    row.row.raw = {0.1F, -0.2F};
    LensColumnReady column;
    column.position = 1;
    column.topK = 2;
    column.layers = {"embed", "block.0"};
    column.cells.resize(2);
    column.cells[0].topIds = {362, 5};
    column.cells[0].topProbs = {0.5F, 0.25F};
    column.cells[0].nextRank = 0;
    column.cells[0].nextProb = 0.5F;
    column.cells[1].topIds = {5, 362};
    column.cells[1].topProbs = {0.6F, 0.3F};
    column.cells[1].nextRank = 1;
    column.cells[1].entropy = 1.25F;
    column.tokenTexts = {{362, " 2"}, {5, "&"}};
    FactorsReady factors;
    factors.factors.layers = {0, 1};
    factors.factors.k = 1;
    factors.factors.positions = {0, 1, 2};
    factors.factors.strengths = {{1, 2, 3}};
    factors.tokenTexts = {{7, "x"}};
    ProjectionReady projection;
    projection.projection.layer = 1;
    projection.projection.points = {{0, 1}, {2, 3}, {4, 5}};
    projection.projection.clusters = {0, 1, 1};
    const std::vector<ReportUpdate> updates{started, generated, row, column, factors, projection};
    Report direct, decoded;
    for (const ReportUpdate& u : updates) {
        const ReportUpdate again = reportUpdateFromJson(reportUpdateToJson(u), "gpu");
        EXPECT_EQ(again.index(), u.index());
        applyUpdate(direct, u);
        applyUpdate(decoded, again);
    }
    EXPECT_EQ(reportToJson(decoded), reportToJson(direct));
    EXPECT_EQ(std::get<SaliencyRowReady>(reportUpdateFromJson(reportUpdateToJson(updates[2]), "gpu")).section, 1U);
    EXPECT_EQ(std::get<LensColumnReady>(reportUpdateFromJson(reportUpdateToJson(updates[3]), "gpu")).position, 1);

    const auto broken = [&](const ReportUpdate& u, const std::function<void(nlohmann::json&)>& damage) {
        nlohmann::json j = nlohmann::json::parse(reportUpdateToJson(u));
        damage(j);
        return errorOf([&] { (void)reportUpdateFromJson(j.dump(), "gpu"); });
    };
    EXPECT_EQ(broken(updates[2], [](auto& j) { j["section"] = -1; }),
              "gpu: the update's section must be a non-negative integer");
    EXPECT_EQ(broken(updates[1], [](auto& j) { j["report"]["tokens"].push_back(j["report"]["tokens"][0]); }),
              "gpu: a token update must hold one token");
    EXPECT_EQ(broken(updates[3], [](auto& j) { j["report"]["lens"]["cells"][0].push_back(nullptr); }),
              "gpu: the lens_column update: lens cell: missing field \"top_ids\"");
    EXPECT_EQ(broken(updates[0], [](auto& j) { j["stage"] = "lunch"; }), "gpu: unknown update stage 'lunch'");
    EXPECT_EQ(broken(updates[0], [](auto& j) { j.erase("report"); }),
              "gpu: the update needs a \"stage\" and a \"report\"");
}
