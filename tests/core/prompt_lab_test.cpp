// The magic-prompt lab (#7): chunk splitting and emphasis parsing as AUTOMATIC1111 reads them,
// cached runs that re-score a new region without regenerating, the report files, and — on the
// shipped shape model — the right verdicts on a controlled case: chunks known to change the
// object, chunks known to change only the background, and magic chunks the model never learned.
#include "cli_support.h"
#include "test_support.h"

#include "spyglass/diffusion.h"
#include "spyglass/error.h"
#include "spyglass/lora_tags.h"
#include "spyglass/prompt_lab.h"
#include "spyglass/prompt_weights.h"
#include "spyglass/shape_scenes.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

using namespace spyglass::core;
using namespace spyglass::test;

namespace {

const std::filesystem::path kShapes =
    std::filesystem::path(SPYGLASS_FIXTURES_DIR) / "../../resources/models/spyglass-shapes";

}  // namespace

TEST(PromptWeights, ParsesLikeAutomatic1111)
{
    using W = std::vector<WeightedText>;
    EXPECT_EQ(parsePromptWeights("a red circle"), (W{{"a red circle", 1.0}}));
    EXPECT_EQ(parsePromptWeights("a (red:1.5) circle"), (W{{"a ", 1.0}, {"red", 1.5}, {" circle", 1.0}}));
    const W nested = parsePromptWeights("((hands)) [blur]");
    ASSERT_EQ(nested.size(), 3U);
    EXPECT_NEAR(nested[0].weight, 1.21, 1e-12);
    EXPECT_EQ(nested[0].text, "hands");
    EXPECT_NEAR(nested[2].weight, 1 / 1.1, 1e-12);
    EXPECT_EQ(parsePromptWeights("\\(literal\\) a:b"), (W{{"(literal) a:b", 1.0}}));
    EXPECT_EQ(parsePromptWeights("(unclosed"), (W{{"unclosed", 1.1}}));
    EXPECT_EQ(parsePromptWeights(""), (W{{"", 1.0}}));
}

TEST(PromptLab, SplitsChunksOutsideEmphasis)
{
    EXPECT_EQ(splitChunks("masterpiece, (detailed hands:1.2), 8k,, best quality "),
              (std::vector<std::string>{"masterpiece", "(detailed hands:1.2)", "8k", "best quality"}));
    EXPECT_EQ(splitChunks("a | (b, c) | d", "|"), (std::vector<std::string>{"a", "(b, c)", "d"}));
    EXPECT_THROW((void)splitChunks("a", ""), Error);
    const auto mask = rectangleMask(2, 1, 3, 2, 4, 4);
    EXPECT_EQ(mask, (std::vector<uint8_t>{0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0}));
}

TEST(PromptLab, CachesRunsAndRescoresANewRegionWithoutRegenerating)
{
    auto model = DiffusionModel::load(fixture("sd-tiny-random"));
    PromptLab lab(*model);
    LabOptions o;
    o.base = "a photo of a hand";
    o.chunks = {"masterpiece", "(detailed fingers:1.3)"};
    o.steps = 2;
    o.seeds = {0, 1};
    o.addOne = true;
    o.width = o.height = 32;
    EXPECT_EQ(PromptLab::prompts(o).size(), 4U);  // full, base, 2 without, 2 with: "without A" is "with B"
    int runs = 0;
    lab.run(o, [&](const Progress& p) {
        runs = std::max(runs, p.total);
        return true;
    });
    EXPECT_EQ(runs, 8);  // 4 prompts × 2 seeds
    EXPECT_EQ(lab.cacheSize(), 8U);
    const LabReport whole = lab.score(o, std::vector<uint8_t>(32 * 32, 1));
    ASSERT_EQ(whole.scores.size(), 2U);
    EXPECT_DOUBLE_EQ(whole.regionArea, 1.0);
    for (const auto& s : whole.scores) {
        EXPECT_GT(s.inside, 0);
        EXPECT_TRUE(s.addedInside.has_value());
        EXPECT_FALSE(name(s.verdict).empty());
    }
    EXPECT_GE(whole.scores[0].inside, whole.scores[1].inside);  // ranked
    // A new region: same cache, new numbers.
    lab.run(o, [&](const Progress& p) {
        EXPECT_EQ(p.total, 0) << "nothing should be generated again";
        return true;
    });
    const LabReport corner = lab.score(o, rectangleMask(0, 0, 8, 8, 32, 32));
    EXPECT_NEAR(corner.regionArea, 1.0 / 16, 1e-12);
    EXPECT_NE(corner.scores[0].inside, whole.scores[0].inside);
    EXPECT_EQ(lab.cacheSize(), 8U);
    EXPECT_THROW((void)lab.score(o, rectangleMask(0, 0, 0, 0, 32, 32)), Error);
    o.steps = 3;
    EXPECT_THROW((void)lab.score(o, rectangleMask(0, 0, 8, 8, 32, 32)), Error);  // not run with these settings
    // Cancel keeps finished runs.
    EXPECT_THROW(lab.run(o, [&](const Progress& p) { return p.done < 2; }), Cancelled);  // during the third run
    EXPECT_EQ(lab.cacheSize(), 10U);
}

// A LoRA as a chunk (#16): a chunk of A1111 tags is "with vs without this LoRA". The lab's runs
// equal plain runs of the model loaded with and without the LoRA (the words of the prompt exactly
// the same, no stray comma), each set of LoRAs is loaded once, and the chunk's score is the change
// between those two images.
TEST(PromptLab, ALoraChunkIsWithVersusWithoutTheLora)
{
    const std::string tag = "<lora:sd-tiny-random-lora-kohya:0.8>";
    const auto loadWith = [](const std::vector<LoraTag>& tags) {
        DiffusionLoadOptions load;
        for (const auto& t : tags) load.loras.push_back({fixture("sd-lora") / (t.name + ".safetensors"), t.weight});
        return DiffusionModel::load(fixture("sd-tiny-random"), "cpu", load);
    };
    std::unique_ptr<DiffusionModel> current;
    std::vector<std::string> loads;
    PromptLab lab([&](const std::vector<LoraTag>& tags) -> DiffusionModel& {
        std::string key;
        for (const auto& t : tags) key += t.name + ":" + std::to_string(t.weight);
        if (!current || loads.back() != key) {
            current = loadWith(tags);
            loads.push_back(key);
        }
        return *current;
    });
    LabOptions o;
    o.base = "a photo of a hand";
    o.chunks = splitChunks("masterpiece, " + tag);
    ASSERT_EQ(o.chunks.size(), 2U);
    o.steps = 2;
    o.width = o.height = 32;
    EXPECT_EQ(PromptLab::fullPrompt(o), "a photo of a hand, masterpiece " + tag);
    EXPECT_EQ(PromptLab::promptWithout(o, 1), "a photo of a hand, masterpiece");
    lab.run(o);
    EXPECT_EQ(loads.size(), 2U);  // without the LoRA (base, without it), with it (full, without masterpiece)
    EXPECT_EQ(lab.cacheSize(), 4U);

    const auto plain = [&](const std::vector<LoraTag>& tags, const std::string& prompt) {
        DiffusionOptions d;
        d.prompt = prompt;
        d.steps = 2;
        d.width = d.height = 32;
        d.promptWeights = true;
        return loadWith(tags)->generate(d);
    };
    const DiffusionResult with = plain({{"sd-tiny-random-lora-kohya", 0.8}}, "a photo of a hand, masterpiece");
    const DiffusionResult without = plain({}, "a photo of a hand, masterpiece");
    EXPECT_EQ(lab.cached(o, PromptLab::fullPrompt(o), 0)->rgb, with.rgb);
    EXPECT_EQ(lab.cached(o, PromptLab::promptWithout(o, 1), 0)->rgb, without.rgb);
    EXPECT_NE(with.rgb, without.rgb);

    const LabReport r = lab.score(o, std::vector<uint8_t>(32 * 32, 1));
    const auto lora = std::find_if(r.scores.begin(), r.scores.end(), [&](const auto& s) { return s.chunk == tag; });
    ASSERT_NE(lora, r.scores.end());
    double sum = 0;
    for (size_t i = 0; i < with.rgb.size(); ++i) sum += std::pow((with.rgb[i] - without.rgb[i]) / 255.0, 2);
    EXPECT_NEAR(lora->inside, std::sqrt(sum / static_cast<double>(with.rgb.size())), 1e-12);
    EXPECT_GT(lora->inside, 0);
    EXPECT_EQ(lora->heatInside, 0);  // a LoRA has no words, so no heatmap

    // Without a way to load LoRAs the lab says what the chunk needs.
    auto model = DiffusionModel::load(fixture("sd-tiny-random"));
    PromptLab single(*model);
    EXPECT_NE(errorOf([&] { single.run(o); }).find("holds <lora:…> tags: LoRA chunks need the LoRA files"),
              std::string::npos);
}

TEST(PromptLabCli, WritesTheReportFiles)
{
    TempDir dir;
    const CliRun r = cli({"compare-prompts", "--model", fixture("sd-tiny-random").string(), "--base",
                          "a photo of a hand", "--append", "masterpiece, <lora:sd-tiny-random-lora-kohya:0.8>",
                          "--lora-dir", fixture("sd-lora").string(), "--steps", "2", "--size", "32x32", "--region",
                          "8,8,16,16", "--seeds", "3", "--out", (dir / "lab").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    for (const char* f : {"index.json", "full.png", "base.png", "without-00.png", "diff-01.png", "grid.png",
                          "report.html", "shortened.png"})
        EXPECT_TRUE(std::filesystem::exists(dir / "lab" / f)) << f;
    const auto index = nlohmann::json::parse(std::ifstream(dir / "lab/index.json"));
    EXPECT_EQ(index["ranking"].size(), 2U);
    EXPECT_NEAR(index["region_area"].get<double>(), 0.25, 1e-12);
    EXPECT_EQ(index["thresholds"]["change"], 0.02);
    EXPECT_NE(r.out.find("shortened: "), std::string::npos);
    EXPECT_NE(r.err.find("loading the model with sd-tiny-random-lora-kohya:0.8"), std::string::npos) << r.err;
    const CliRun noDir = cli({"compare-prompts", "--model", fixture("sd-tiny-random").string(), "--base", "a",
                              "--append", "b, <lora:x:1>", "--out", (dir / "y").string()});
    EXPECT_EQ(noDir.code, 2);
    EXPECT_NE(noDir.err.find("give --lora-dir DIR"), std::string::npos) << noDir.err;
    const CliRun bad = cli({"compare-prompts", "--model", fixture("sd-tiny-random").string(), "--base", "a", "--append",
                            "b", "--region", "1,2,3", "--out", (dir / "x").string()});
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.err.find("--region expects x,y,w,h"), std::string::npos);
}

TEST(PromptLab, FindsWhichChunksChangeTheImageOnTheShippedModel)
{
    // Controlled case on resources/models/spyglass-shapes: in training, "striped" and "on a white
    // background" always changed the picture and the magic chunks never did (they were appended at
    // random). The region is the object as the model drew it for the full prompt.
    if (!std::filesystem::exists(kShapes / "model_index.json"))
        GTEST_SKIP() << "resources/models/spyglass-shapes is not there";
    auto model = DiffusionModel::load(kShapes);
    PromptLab lab(*model);
    LabOptions o;
    o.base = "a big red circle at the top left";
    o.chunks = splitChunks("masterpiece, striped, 8k, on a white background, best quality");
    o.steps = 20;
    o.guidance = 5;
    o.seeds = {1, 2};
    lab.run(o);
    const auto full = lab.cached(o, PromptLab::fullPrompt(o), 1);
    ASSERT_TRUE(full);
    const SceneReading drawn = readScene(full->rgb, full->width);
    ASSERT_TRUE(drawn.found);
    const LabReport r = lab.score(o, drawn.mask);
    std::map<std::string, ChunkScore> by;
    for (const auto& s : r.scores) by[s.chunk] = s;
    const Verdict none = Verdict::NoEffect;
    for (const char* magic : {"masterpiece", "8k", "best quality"}) EXPECT_EQ(by[magic].verdict, none) << magic;
    for (const char* real : {"striped", "on a white background"}) {
        EXPECT_NE(by[real].verdict, none) << real;
        for (const char* magic : {"masterpiece", "8k", "best quality"})
            EXPECT_GT(std::max(by[real].inside, by[real].outside), std::max(by[magic].inside, by[magic].outside))
                << real << " vs " << magic;
    }
    EXPECT_EQ(r.shortenedPrompt, "a big red circle at the top left, striped, on a white background");
}
