// An image run across `serve` (spyglass/diffusion_remote.h): options and load options round-trip
// as JSON; a whole result (image, embeddings, latents, every heat map) is encoded as a frame and
// decoded to the same values; payloads of the wrong size or missing are named.
#include "spyglass/diffusion_remote.h"
#include "spyglass/error.h"

#include <gtest/gtest.h>

#include <functional>

using namespace spyglass::core;

namespace {

HostTensor ramp(std::vector<int64_t> shape, float start)
{
    HostTensor t{std::move(shape), {}};
    for (int64_t i = 0; i < t.numel(); ++i) t.values.push_back(start + 0.25F * static_cast<float>(i));
    return t;
}

DiffusionResult sampleResult()
{
    DiffusionResult r;
    r.width = 4;
    r.height = 2;
    r.image = ramp({1, 3, 2, 4}, -1);
    for (int i = 0; i < 4 * 2 * 3; ++i) r.rgb.push_back(static_cast<uint8_t>(i * 10));
    r.tokenIds = {49406, 320, 1929, 49407};
    r.tokenWeights = {1, 1.2F, 1, 1};
    r.promptEmbeds = ramp({1, 4, 3}, 0.5F);
    r.latents = ramp({3, 4, 1, 1}, 2);
    r.timesteps = {999, 499.5};
    r.scheduler = "EulerDiscreteScheduler";
    r.schedulerName = "euler";
    Heatmaps& h = r.heatmaps;
    h.layers = {{"up_blocks.1.attentions.0", "up", 2, 1, 1}, {"down_blocks.1.attentions.0", "down", 2, 1, 1}};
    h.rowTokens = {"<|startoftext|>", "a", "hand", "<|endoftext|>"};
    h.rowIds = {49406, 320, 1929, 49407};
    h.gridHeight = 1;
    h.gridWidth = 1;
    h.headSums = {ramp({2, 4, 1, 1}, 0), ramp({2, 4, 1, 1}, 3)};
    h.callMaps = {{ramp({4, 1, 1}, 1), ramp({4, 1, 1}, 2)}, {ramp({4, 1, 1}, 5), ramp({4, 1, 1}, 6)}};
    h.tokenMaps = ramp({4, 1, 1}, 7);
    h.words = {{"a", {1}}, {"hand", {2}}};
    h.wordMaps = ramp({2, 1, 1}, 8);
    h.wordMapsImage = ramp({2, 2, 4}, 9);
    return r;
}

void expectSameTensor(const HostTensor& a, const HostTensor& b)
{
    EXPECT_EQ(a.shape, b.shape);
    EXPECT_EQ(a.values, b.values);
}

}  // namespace

TEST(DiffusionRemote, OptionsAndLoadOptionsRoundTrip)
{
    DiffusionOptions o;
    o.prompt = "a photo of a (hand:1.2)";
    o.negativePrompt = "blurry";
    o.steps = 7;
    o.guidance = 5.5;
    o.scheduler = "DPM++ 2M Karras";
    o.schedulerConfig = "/srv/sched.json";
    o.timestepSpacing = "trailing";
    o.seed = 1234567890123ULL;
    o.width = 64;
    o.height = 48;
    o.heatmaps = false;
    o.promptWeights = true;
    o.clipSkip = 2;
    o.originalWidth = 1024;
    o.originalHeight = 768;
    o.cropLeft = 3;
    o.cropTop = 4;
    o.previewEvery = 5;
    const DiffusionOptions b = diffusionOptionsFromJson(diffusionOptionsToJson(o), "t");
    EXPECT_EQ(b.prompt, o.prompt);
    EXPECT_EQ(b.negativePrompt, o.negativePrompt);
    EXPECT_EQ(b.steps, o.steps);
    EXPECT_EQ(b.guidance, o.guidance);
    EXPECT_EQ(b.scheduler, o.scheduler);
    EXPECT_EQ(b.schedulerConfig, o.schedulerConfig);
    EXPECT_EQ(b.timestepSpacing, o.timestepSpacing);
    EXPECT_EQ(b.seed, o.seed);
    EXPECT_EQ(b.width, o.width);
    EXPECT_EQ(b.height, o.height);
    EXPECT_EQ(b.heatmaps, o.heatmaps);
    EXPECT_EQ(b.promptWeights, o.promptWeights);
    EXPECT_EQ(b.clipSkip, o.clipSkip);
    EXPECT_EQ(b.originalWidth, o.originalWidth);
    EXPECT_EQ(b.originalHeight, o.originalHeight);
    EXPECT_EQ(b.cropLeft, o.cropLeft);
    EXPECT_EQ(b.cropTop, o.cropTop);
    EXPECT_EQ(b.previewEvery, o.previewEvery);
    o.initLatents = HostTensor{{1}, {0}};
    EXPECT_THROW((void)diffusionOptionsToJson(o), Error);  // noise cannot travel: a seed does

    DiffusionLoadOptions l;
    l.configDir = "/srv/sd15";
    l.vaePath = "/srv/vae.safetensors";
    l.predictionType = "v_prediction";
    l.loras = {{"/srv/a.safetensors", 0.8}, {"/srv/b.safetensors", -0.5}};
    const DiffusionLoadOptions m = diffusionLoadFromJson(diffusionLoadToJson(l), "t");
    EXPECT_EQ(m.configDir, l.configDir);
    EXPECT_EQ(m.vaePath, l.vaePath);
    EXPECT_EQ(m.predictionType, l.predictionType);
    ASSERT_EQ(m.loras.size(), 2U);
    EXPECT_EQ(m.loras[1].path, l.loras[1].path);
    EXPECT_EQ(m.loras[1].strength, -0.5);

    try {
        (void)diffusionOptionsFromJson({{"steps", "20"}}, "request 4");
        ADD_FAILURE();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "request 4: options.steps has the wrong type");
    }
    EXPECT_THROW((void)diffusionLoadFromJson({{"loras", {1}}}, "t"), Error);
}

TEST(DiffusionRemote, AWholeResultSurvivesAFrame)
{
    const DiffusionResult r = sampleResult();
    nlohmann::json header{{"type", "result"}, {"id", 1}};
    std::vector<std::pair<std::string, std::string>> payloads;
    encodeDiffusionResult(r, header, payloads);
    // through the wire format itself
    FrameReader reader;
    const std::string bytes = encodeFrame(header, payloads);
    reader.feed(bytes.data(), bytes.size());
    const auto frame = reader.next();
    ASSERT_TRUE(frame.has_value());
    const DiffusionResult b = decodeDiffusionResult(*frame, "gpu");
    EXPECT_EQ(b.width, 4);
    EXPECT_EQ(b.height, 2);
    EXPECT_EQ(b.rgb, r.rgb);
    EXPECT_EQ(b.tokenIds, r.tokenIds);
    EXPECT_EQ(b.tokenWeights, r.tokenWeights);
    EXPECT_EQ(b.timesteps, r.timesteps);
    EXPECT_EQ(b.scheduler, r.scheduler);
    EXPECT_EQ(b.schedulerName, r.schedulerName);
    expectSameTensor(b.image, r.image);
    expectSameTensor(b.promptEmbeds, r.promptEmbeds);
    EXPECT_TRUE(b.pooledPromptEmbeds.values.empty());
    expectSameTensor(b.latents, r.latents);
    const Heatmaps &h = b.heatmaps, &rh = r.heatmaps;
    ASSERT_EQ(h.layers.size(), 2U);
    EXPECT_EQ(h.layers[1].name, rh.layers[1].name);
    EXPECT_EQ(h.layers[1].block, "down");
    EXPECT_EQ(h.layers[0].heads, 2);
    EXPECT_EQ(h.rowTokens, rh.rowTokens);
    EXPECT_EQ(h.rowIds, rh.rowIds);
    ASSERT_EQ(h.words.size(), 2U);
    EXPECT_EQ(h.words[1].word, "hand");
    EXPECT_EQ(h.words[1].rows, std::vector<int>{2});
    ASSERT_EQ(h.headSums.size(), 2U);
    expectSameTensor(h.headSums[1], rh.headSums[1]);
    ASSERT_EQ(h.callMaps.size(), 2U);
    ASSERT_EQ(h.callMaps[1].size(), 2U);
    expectSameTensor(h.callMaps[1][0], rh.callMaps[1][0]);
    expectSameTensor(h.tokenMaps, rh.tokenMaps);
    expectSameTensor(h.wordMaps, rh.wordMaps);
    expectSameTensor(h.wordMapsImage, rh.wordMapsImage);
}

TEST(DiffusionRemote, PerCallMapsStayBehindWhenTheyWouldNotFit)
{
    const DiffusionResult r = sampleResult();
    nlohmann::json header{{"type", "result"}};
    std::vector<std::pair<std::string, std::string>> payloads;
    encodeDiffusionResult(r, header, payloads, 400);  // bytes: everything but the per-call maps fits
    EXPECT_EQ(header["diffusion"]["call_maps_left_out"], 4 * 4 * sizeof(float));
    const DiffusionResult b = decodeDiffusionResult(Frame{header, payloads}, "gpu");
    EXPECT_TRUE(b.heatmaps.callMaps.empty());
    ASSERT_EQ(b.heatmaps.headSums.size(), 2U);
    expectSameTensor(b.heatmaps.wordMapsImage, r.heatmaps.wordMapsImage);
}

TEST(DiffusionRemote, BrokenPayloadsAreNamed)
{
    nlohmann::json header{{"type", "result"}};
    std::vector<std::pair<std::string, std::string>> payloads;
    encodeDiffusionResult(sampleResult(), header, payloads);
    const auto message = [&](const std::function<void(Frame&)>& damage) {
        Frame f{header, payloads};
        damage(f);
        try {
            (void)decodeDiffusionResult(f, "gpu");
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_EQ(message([](Frame& f) {
                  for (auto& p : f.payloads)
                      if (p.first == "diffusion/latents") p.second.pop_back();
              }),
              "gpu: the image result's tensor 'latents' has 47 bytes for 12 floats");
    EXPECT_EQ(message([](Frame& f) {
                  std::erase_if(f.payloads, [](const auto& p) { return p.first == "diffusion/head_sums/1"; });
              }),
              "gpu: the image result's tensor 'head_sums/1' is missing");
    EXPECT_EQ(message([](Frame& f) {
                  f.header["diffusion"]["tensors"]["image"] = {1, -3};
              }),
              "gpu: the image result's tensor 'image' has a bad dimension");
    EXPECT_EQ(message([](Frame& f) { f.header["diffusion"]["heatmaps"]["calls"] = 1000; }),
              "gpu: the image result announces more heat maps than it carries");
    EXPECT_EQ(message([](Frame& f) {
                  for (auto& p : f.payloads)
                      if (p.first == "diffusion/rgb") p.second += "x";
              }),
              "gpu: the image result's RGB pixels are missing or of the wrong size");
    EXPECT_EQ(message([](Frame& f) { f.header.erase("diffusion"); }), "gpu: the answer holds no image result");
}
