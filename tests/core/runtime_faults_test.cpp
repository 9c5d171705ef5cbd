// Runtime faults end in a clear message and leave the engine usable (#9): out of memory under a
// memory cap, cancel at every stage of an analysis, an image run and a prompt-lab run, and a
// checkpoint rewritten in place or deleted while loaded.
#include "cli_support.h"
#include "model_fixture.h"
#include "quick_analysis.h"

#include "spyglass/analysis.h"
#include "spyglass/diffusion.h"
#include "spyglass/error.h"
#include "spyglass/language_model.h"
#include "spyglass/prompt_lab.h"
#include "spyglass/runtime.h"

#include <fstream>
#include <map>
#include <set>

using namespace spyglass::core;
using spyglass::test::fixture;
using spyglass::test::TempDir;

namespace {

AnalysisOptions everySection()
{
    AnalysisOptions o = spyglass::test::everyMethodQuickly();
    o.factorCount = 3;
    o.factorMaxIterations = 60;
    return o;
}

// Every (stage, call-within-stage) a run reports, in order.
using Calls = std::vector<std::pair<std::string, int>>;

// For each stage of `calls`: cancels `run` at its first call and at its middle call, and checks
// that each ends in Cancelled.
void cancelAtEveryStage(const Calls& calls, const std::function<void(const ProgressCallback&)>& run)
{
    std::map<std::string, int> perStage;
    for (const auto& [stage, index] : calls) perStage[stage] = std::max(perStage[stage], index + 1);
    ASSERT_GE(perStage.size(), 2u);
    for (const auto& [stage, count] : perStage)
        for (const int at : {0, count / 2}) {
            int seen = 0;
            bool reached = false;
            EXPECT_THROW(run([&](const Progress& p) {
                             if (p.stage != stage) return true;
                             if (seen++ < at) return true;
                             reached = true;
                             return false;
                         }),
                         Cancelled)
                << stage << " call " << at;
            EXPECT_TRUE(reached) << stage << " call " << at;
        }
}

Calls recordCalls(const std::function<void(const ProgressCallback&)>& run)
{
    Calls calls;
    std::map<std::string, int> counts;
    run([&](const Progress& p) {
        calls.emplace_back(p.stage, counts[p.stage]++);
        return true;
    });
    return calls;
}

void expectSameSaliency(const Report& a, const Report& b)
{
    ASSERT_EQ(a.tokens.size(), b.tokens.size());
    ASSERT_EQ(a.saliency.size(), b.saliency.size());
    for (size_t s = 0; s < a.saliency.size(); ++s)
        for (size_t r = 0; r < a.saliency[s].rows.size(); ++r)
            EXPECT_EQ(a.saliency[s].rows[r].scores, b.saliency[s].rows[r].scores);
}

}  // namespace

TEST(RuntimeFaults, MemoryCapEndsAnAnalysisInOutOfMemoryAndTheModelStaysUsable)
{
    setMemoryLimit(0);  // installs the accounting allocator before the model's tensors exist
    auto model = LanguageModel::load(fixture("gpt2-tiny-random"));
    const Report before = analyze(*model, "1, 2, 3, 4,", everySection());
    const uint64_t held = tensorBytesInUse();
    EXPECT_GT(held, 6u << 20);  // the fixture's weights (≈ 6.5 MB of float32) are counted
    setMemoryLimit(held + (64u << 10));
    try {
        (void)analyze(*model, "1, 2, 3, 4,", everySection());
        setMemoryLimit(0);
        FAIL() << "analysis ran within " << held + (64u << 10) << " bytes";
    } catch (const OutOfMemory& e) {
        setMemoryLimit(0);
        const std::string what = e.what();
        EXPECT_NE(what.find("out of memory: "), std::string::npos) << what;
        EXPECT_NE(what.find("would pass the memory limit of"), std::string::npos) << what;
        EXPECT_NE(what.find("memory limit"), std::string::npos) << what;
    }
    EXPECT_LE(tensorBytesInUse(), held + (1u << 20));  // what the run held went back
    expectSameSaliency(analyze(*model, "1, 2, 3, 4,", everySection()), before);
}

TEST(RuntimeFaults, CliMemoryLimitEndsInOneClearLine)
{
    TempDir dir;
    const auto run = [&](const std::string& mib) {
        return spyglass::test::cli({"analyze", "--model", fixture("gpt2-tiny-random").string(), "--prompt",
                                    "1, 2, 3, 4,", "--saliency", "integrated_gradients", "--memory-limit", mib, "--out",
                                    (dir / "report.json").string()});
    };
    const auto tight = run("24");  // loads, then runs out during the analysis (29 MiB were enough)
    EXPECT_EQ(tight.code, 1);
    EXPECT_NE(tight.err.find("spyglass-cli: error: "), std::string::npos) << tight.err;
    EXPECT_NE(tight.err.find("out of memory: "), std::string::npos) << tight.err;
    EXPECT_NE(tight.err.find("memory limit of 24.0 MiB"), std::string::npos) << tight.err;
    const auto load = run("1");
    EXPECT_EQ(load.code, 1);
    EXPECT_NE(load.err.find("loading model '"), std::string::npos) << load.err;
    EXPECT_NE(load.err.find("out of memory: "), std::string::npos) << load.err;
    EXPECT_EQ(run("512").code, 0);
    const auto bad = run("lots");
    EXPECT_EQ(bad.code, 2) << bad.err;
}

TEST(RuntimeFaults, AnalysisReachingTheContextWindowSaysSo)
{
    std::string prompt = "1,";
    for (int i = 0; i < 61; ++i) prompt += " 1,";  // 124 tokens of a 128-token window
    auto model = LanguageModel::load(fixture("gpt2-tiny-random"));
    AnalysisOptions o;
    o.maxNewTokens = 8;
    o.factors = false;
    o.projection = false;
    const Report r = analyze(*model, prompt, o);
    EXPECT_EQ(r.tokens.size(), 128u);
    EXPECT_EQ(contextLimitNote(r, model->info(), 8),
              "stopped at the model's context window (128 tokens) after 4 of 8 new tokens");
    EXPECT_EQ(contextLimitNote(r, model->info(), 4), "");
    TempDir dir;
    const auto cli = spyglass::test::cli({"analyze", "--model", fixture("gpt2-tiny-random").string(), "--prompt",
                                          prompt, "--saliency", "gradient", "--out", (dir / "r.json").string()});
    EXPECT_NE(cli.err.find("stopped at the model's context window (128 tokens) after 4 of 8 new tokens"),
              std::string::npos)
        << cli.err;
    const auto tooLong = spyglass::test::cli({"analyze", "--model", fixture("gpt2-tiny-random").string(), "--prompt",
                                              prompt + prompt, "--out", (dir / "r.json").string()});
    EXPECT_EQ(tooLong.code, 1);
    EXPECT_NE(tooLong.err.find("the prompt has 248 tokens but the model's context window is 128 tokens"),
              std::string::npos)
        << tooLong.err;
}

TEST(RuntimeFaults, MemoryCapAlsoStopsAnImageRunAndALoad)
{
    setMemoryLimit(0);
    auto model = DiffusionModel::load(fixture("sd-tiny-random"));
    DiffusionOptions o;
    o.prompt = "a hand";
    o.steps = 2;
    o.width = o.height = 32;
    setMemoryLimit(tensorBytesInUse() + (256u << 10));
    EXPECT_THROW((void)model->generate(o), OutOfMemory);
    setMemoryLimit(tensorBytesInUse() + (1u << 20));
    try {
        (void)LanguageModel::load(fixture("gpt2-tiny-random"));
        setMemoryLimit(0);
        FAIL() << "loaded within the cap";
    } catch (const Error& e) {
        setMemoryLimit(0);
        const std::string what = e.what();
        EXPECT_NE(what.find("loading model '"), std::string::npos) << what;
        EXPECT_NE(what.find("out of memory"), std::string::npos) << what;
        // Refused before loading, with both numbers: the fixture's 3.3 M float32 weights, 1 MiB left.
        EXPECT_NE(what.find("the model's weights need 12.7 MiB as float32, but only 1.0 MiB is available under the "
                            "memory limit"),
                  std::string::npos)
            << what;
        EXPECT_NE(what.find("nothing was loaded"), std::string::npos) << what;
    }
    EXPECT_EQ(model->generate(o).rgb.size(), 3u * 32 * 32);
}

TEST(RuntimeFaults, CancelAtEveryStageOfAnAnalysis)
{
    auto model = LanguageModel::load(fixture("gpt2-tiny-random"));
    const auto run = [&](const ProgressCallback& progress) {
        (void)analyze(*model, "1, 2, 3, 4,", everySection(), progress);
    };
    const Calls calls = recordCalls(run);
    std::set<std::string> stages;
    for (const auto& c : calls) stages.insert(c.first);
    for (const char* s : {"generating", "lens", "factors", "projection", "done"}) EXPECT_TRUE(stages.count(s)) << s;
    cancelAtEveryStage(calls, run);
    // Still usable: the same numbers as a run that was never interrupted.
    const Report a = analyze(*model, "1, 2, 3, 4,", everySection());
    auto fresh = LanguageModel::load(fixture("gpt2-tiny-random"));
    expectSameSaliency(a, analyze(*fresh, "1, 2, 3, 4,", everySection()));
}

TEST(RuntimeFaults, CancelAtEveryStageOfAnImageRunAndALabRun)
{
    auto model = DiffusionModel::load(fixture("sd-tiny-random"));
    DiffusionOptions o;
    o.prompt = "a photo of a hand";
    o.steps = 3;
    o.seed = 5;
    o.width = o.height = 32;
    const DiffusionResult expected = model->generate(o);
    const auto image = [&](const ProgressCallback& progress) { (void)model->generate(o, progress); };
    cancelAtEveryStage(recordCalls(image), image);
    EXPECT_EQ(model->generate(o).rgb, expected.rgb);

    LabOptions lab;
    lab.base = "a photo of a hand";
    lab.chunks = {"masterpiece"};  // two runs (full, base): cancelled in the first, the last and after them
    lab.steps = 2;
    lab.width = lab.height = 32;
    const auto labRun = [&](const ProgressCallback& progress) {
        PromptLab fresh(*model);  // nothing cached: every run is generated
        fresh.run(lab, progress);
        const auto mask = rectangleMask(0, 0, 16, 16, 32, 32);
        LabReport report = fresh.score(lab, mask);
        fresh.runShortened(lab, mask, report, progress);
    };
    cancelAtEveryStage(recordCalls(labRun), labRun);
    EXPECT_EQ(model->generate(o).rgb, expected.rgb);
}

TEST(RuntimeFaults, CheckpointRewrittenInPlaceOrDeletedAfterLoadingChangesNothing)
{
    // A training script saving again over the loaded file (same inode, truncated) would fault a
    // process that still read the file's mapping (SIGBUS); the loaded weights are Spyglass's copy.
    TempDir dir;
    const auto folder = dir / "model";
    std::filesystem::copy(fixture("gpt2-tiny-random"), folder);
    auto model = LanguageModel::load(folder);
    const std::string sha = model->info().sha256;
    EXPECT_EQ(sha.size(), 64u);
    SamplingOptions greedy;
    greedy.maxNewTokens = 6;
    greedy.stopAtEos = false;
    const auto ids = model->encode("1, 2, 3, 4,");
    const auto expected = model->generate(ids, greedy).generatedIds;
    AnalysisOptions quick;
    quick.maxNewTokens = 2;
    quick.factors = false;
    quick.projection = false;
    const Report before = analyze(*model, "1, 2, 3, 4,", quick);

    std::ofstream(folder / "model.safetensors", std::ios::trunc | std::ios::binary) << "rewritten";
    EXPECT_EQ(model->generate(ids, greedy).generatedIds, expected);
    std::filesystem::remove_all(folder);
    EXPECT_EQ(model->generate(ids, greedy).generatedIds, expected);
    const Report after = analyze(*model, "1, 2, 3, 4,", quick);
    expectSameSaliency(after, before);
    EXPECT_EQ(after.model.sha256, sha);  // the weights that ran, not whatever the folder holds now
    try {
        (void)LanguageModel::load(folder);
        FAIL() << "loaded a deleted folder";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
    }
}

TEST(RuntimeFaults, RecomputingASectionWithOtherWeightsIsRefused)
{
    // A model folder retrained in place between a run and a Recompute must not mix two models in
    // one report.
    auto original = LanguageModel::load(fixture("gpt2-tiny-random"));
    AnalysisOptions o;
    o.maxNewTokens = 2;
    const Report base = analyze(*original, "1, 2, 3, 4,", o);
    TempDir dir;
    spyglass::test::copyModelFiles(dir.path());
    auto weights = spyglass::test::fixtureWeights();
    for (auto& v : weights.at("transformer.h.0.mlp.c_fc.weight").values) v *= 1.5F;
    spyglass::test::writeWeights(dir / "model.safetensors", weights);
    auto retrained = LanguageModel::load(dir.path());
    for (const auto& run : {std::function<void()>([&] { (void)refactor(*retrained, base, o); }),
                            std::function<void()>([&] { (void)reproject(*retrained, base, o); })}) {
        try {
            run();
            FAIL() << "recomputed with other weights";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("the model's weights differ from the ones this report was made with"),
                      std::string::npos)
                << e.what();
        }
    }
    EXPECT_NO_THROW((void)refactor(*original, base, o));
}
