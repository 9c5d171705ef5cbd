// `spyglass-cli diffuse` on the tiny reference pipeline: image, one overlay per word, index.json in
// word order, the trace tensors (equal to diffusers/DAAM within the README's tolerances), and
// one clear error per malformed folder or bad option (#6).
#include "cli_support.h"
#include "test_support.h"

#include "spyglass/diffusion.h"
#include "spyglass/error.h"
#include "spyglass/generation_parameters.h"
#include "spyglass/heatmap_overlay.h"
#include "spyglass/safetensors.h"

#include <nlohmann/json.hpp>

using namespace spyglass::core;
using namespace spyglass::test;

namespace {

const std::string kPrompt = "a photo of a hand, masterpiece, best quality, detailed fingers";
std::filesystem::path sd()
{
    return fixture("sd-tiny-random");
}

// A copy of the tiny pipeline that a test may break.
std::filesystem::path copyPipeline(const TempDir& dir)
{
    const auto copy = dir / "sd";
    std::filesystem::copy(sd(), copy, std::filesystem::copy_options::recursive);
    std::filesystem::remove(copy / "reference.safetensors");
    return copy;
}

}  // namespace

TEST(DiffuseCli, ImageOverlaysIndexAndTraceMatchTheReference)
{
    TempDir dir;
    const auto reference = SafetensorsFile::open(sd() / "reference.safetensors");
    SafetensorsWriter noise;
    noise.addFloat("latents", reference->readFloat("initial_noise"));
    noise.write(dir / "noise.safetensors");
    const CliRun r = cli({"diffuse",
                          "--model",
                          sd().string(),
                          "--prompt",
                          kPrompt,
                          "--steps",
                          "10",
                          "--scheduler-config",
                          (sd() / "schedulers/euler/scheduler_config.json").string(),
                          "--init-latents",
                          (dir / "noise.safetensors").string(),
                          "--out",
                          (dir / "image.png").string(),
                          "--heatmaps",
                          (dir / "maps/new").string(),
                          "--trace",
                          (dir / "trace.safetensors").string(),
                          "--colormap",
                          "turbo",
                          "--alpha",
                          "0.6"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(r.out.empty());
    EXPECT_NE(r.err.find("denoising 10/10"), std::string::npos);
    EXPECT_GT(std::filesystem::file_size(dir / "image.png"), 1000U);
    std::ifstream in(dir / "maps/new/index.json");
    const auto index = nlohmann::json::parse(in);
    ASSERT_EQ(index["words"].size(), 10U);
    const std::vector<std::string> expected{"a",           "photo", "of",      "hand",     ",",
                                            "masterpiece", "best",  "quality", "detailed", "fingers"};
    double shares = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
        const auto& w = index["words"][i];
        EXPECT_EQ(w["word"], expected[i]);
        EXPECT_TRUE(std::filesystem::exists(dir / "maps/new" / w["overlay"].get<std::string>())) << w["overlay"];
        shares += w["share"].get<double>();
    }
    EXPECT_NEAR(shares, 1.0, 1e-6);
    EXPECT_EQ(index["words"][4]["tokens"], nlohmann::json({",", ",", ","}));
    EXPECT_EQ(index["scheduler"], "EulerDiscreteScheduler");
    EXPECT_EQ(index["sampler"], "euler");
    EXPECT_EQ(index["colormap"], "turbo");
    const auto trace = SafetensorsFile::open(dir / "trace.safetensors");
    EXPECT_EQ(trace->readInt64("token_ids"), reference->readInt64("prompt.input_ids"));
    EXPECT_TRUE(allClose(trace->readFloat("prompt_embeds"), reference->readFloat("prompt.embeds"), 1e-5, 0));
    EXPECT_TRUE(allClose(trace->readFloat("latents"), reference->readFloat("euler.latents"), 2e-3, 0));
    EXPECT_TRUE(allClose(trace->readFloat("image"), reference->readFloat("euler.image"), 5e-4, 0));
    EXPECT_TRUE(allClose(trace->readFloat("token_maps"), reference->readFloat("euler.daam.token_maps"), 2e-5, 0));
    EXPECT_TRUE(allClose(trace->readFloat("word_maps"), reference->readFloat("euler.daam.word_maps"), 2e-5, 0));
    EXPECT_TRUE(
        allClose(trace->readFloat("word_maps_image"), reference->readFloat("euler.daam.word_maps_image"), 2e-4, 0));
}

TEST(DiffuseCli, LongPromptsAreEncodedInWindowsThatKeepTheirMaps)
{
    std::string prompt = "a photo of a hand";
    for (int i = 0; i < 20; ++i) prompt += ", masterpiece, best quality";  // 5 + 20·5 = 105 tokens: two windows
    auto model = DiffusionModel::load(sd());
    DiffusionOptions o;
    o.prompt = prompt;
    o.steps = 2;
    o.scheduler = "ddim";
    o.width = 48;
    o.height = 32;  // non-square
    const DiffusionResult r = model->generate(o);
    EXPECT_EQ(r.tokenIds.size(), 154U);
    EXPECT_EQ(r.promptEmbeds.shape, (std::vector<int64_t>{1, 154, 32}));
    EXPECT_EQ(r.tokenIds[77], 49406);                   // the second window starts with its own start-of-text
    EXPECT_EQ(r.heatmaps.rowTokens.size(), 105U + 4U);  // SOT and EOT of each window
    EXPECT_EQ(r.heatmaps.tokenMaps.shape, (std::vector<int64_t>{109, 16, 24}));
    EXPECT_EQ(r.heatmaps.wordMapsImage.shape, (std::vector<int64_t>{8, 32, 48}));
    EXPECT_EQ(r.width, 48);
    // "quality" occurs in both windows: its map averages rows of each.
    const auto& quality = r.heatmaps.words[7];
    EXPECT_EQ(quality.word, "quality");
    EXPECT_EQ(quality.rows.size(), 20U);
    EXPECT_GT(quality.rows.back(), 77);
}

TEST(DiffuseCli, MalformedFoldersAndOptionsGiveOneClearLine)
{
    TempDir dir;
    auto expectError = [&](const std::vector<std::string>& args, const std::string& fragment) {
        const CliRun r = cli(args);
        EXPECT_NE(r.code, 0) << fragment;
        EXPECT_NE(r.err.find(fragment), std::string::npos) << "wanted '" << fragment << "' in: " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    };
    const std::string out = (dir / "x.png").string();
    std::filesystem::create_directories(dir / "empty");
    expectError({"diffuse", "--model", (dir / "empty").string(), "--prompt", "a", "--out", out}, "the folder is empty");
    expectError({"diffuse", "--model", (dir / "nowhere").string(), "--prompt", "a", "--out", out}, "does not exist");
    expectError({"diffuse", "--model", fixture("gpt2-tiny-random").string(), "--prompt", "a", "--out", out},
                "no model_index.json");

    const auto broken = copyPipeline(dir);
    std::filesystem::remove_all(broken / "vae");
    expectError({"diffuse", "--model", broken.string(), "--prompt", "a", "--out", out}, "the vae/ folder is missing");
    std::filesystem::copy(sd() / "vae", broken / "vae", std::filesystem::copy_options::recursive);
    writeFile(broken / "unet/config.json",
              R"({"block_out_channels": [32, 64], "down_block_types": ["CrossAttnDownBlock2D"]})");
    expectError({"diffuse", "--model", broken.string(), "--prompt", "a", "--out", out},
                "down_block_types and up_block_types must have one entry");
    std::filesystem::copy_file(sd() / "unet/config.json", broken / "unet/config.json",
                               std::filesystem::copy_options::overwrite_existing);
    writeFile(broken / "text_encoder/model.safetensors", "not a safetensors file");
    expectError({"diffuse", "--model", broken.string(), "--prompt", "a", "--out", out}, "model.safetensors");
    std::filesystem::copy_file(sd() / "text_encoder/model.safetensors", broken / "text_encoder/model.safetensors",
                               std::filesystem::copy_options::overwrite_existing);
    writeFile(broken / "scheduler/scheduler_config.json", R"({"_class_name": "LMSDiscreteScheduler"})");
    expectError({"diffuse", "--model", broken.string(), "--prompt", "a", "--out", out},
                "scheduler 'LMSDiscreteScheduler' is not supported");
    writeFile(broken / "scheduler/scheduler_config.json",
              R"({"_class_name": "DDIMScheduler", "prediction_type": "sample"})");
    expectError({"diffuse", "--model", broken.string(), "--prompt", "a", "--out", out},
                "prediction_type 'sample' is not supported");
    std::filesystem::remove(broken / "tokenizer/merges.txt");
    expectError({"diffuse", "--model", broken.string(), "--prompt", "a", "--out", out}, "merges.txt: missing");

    const std::string model = sd().string();
    expectError({"diffuse", "--model", model, "--prompt", "a", "--size", "60x64", "--out", out}, "multiples of 8");
    expectError({"diffuse", "--model", model, "--prompt", "a", "--size", "64", "--out", out}, "--size expects WxH");
    expectError(
        {"diffuse", "--model", model, "--prompt", "a", "--scheduler", "lms", "--out", out},
        "--scheduler 'lms' is not known: give ddim, euler, euler_karras, euler_a, dpmpp_2m, dpmpp_2m_karras, pndm");
    expectError({"diffuse", "--model", model, "--prompt", "a", "--timestep-spacing", "even", "--out", out},
                "--timestep-spacing must be leading, linspace or trailing (got 'even')");
    expectError({"diffuse", "--model", model, "--prompt", "a", "--colormap", "rainbow", "--out", out},
                "--colormap 'rainbow' is not known");
    expectError({"diffuse", "--model", model, "--prompt", "a", "--seed", "1", "--init-latents", "x", "--out", out},
                "not both");
    SafetensorsWriter wrong;
    wrong.addFloat("latents", HostTensor{{1, 4, 8, 8}, std::vector<float>(256)});
    wrong.write(dir / "wrong.safetensors");
    expectError({"diffuse", "--model", model, "--prompt", "a", "--init-latents", (dir / "wrong.safetensors").string(),
                 "--out", out},
                "--init-latents: shape [1, 4, 8, 8] does not match [1, 4, 32, 32]");
}

TEST(DiffuseCli, EulerAncestralDrawsFromTheSeed)
{
    auto model = DiffusionModel::load(sd());
    DiffusionOptions o;
    o.prompt = "a red circle";
    o.steps = 3;
    o.scheduler = "euler_a";
    o.heatmaps = false;
    o.seed = 5;
    const DiffusionResult a = model->generate(o);
    const DiffusionResult b = model->generate(o);
    EXPECT_EQ(a.rgb, b.rgb);  // same seed, same ancestral noise
    o.seed = 6;
    EXPECT_NE(model->generate(o).rgb, a.rgb);
    EXPECT_EQ(a.scheduler, "EulerAncestralDiscreteScheduler");
    int previews = 0;
    o.previewEvery = 1;
    (void)model->generate(o, {}, [&](int step, int total, int w, int h, const std::vector<uint8_t>& rgb) {
        ++previews;
        EXPECT_LT(step, total);
        EXPECT_EQ(rgb.size(), static_cast<size_t>(w * h * 3));
    });
    EXPECT_EQ(previews, 2);
    EXPECT_THROW((void)model->generate(o, [](const Progress& p) { return p.done < 1; }), Cancelled);
}

TEST(DiffuseCli, SingleFileCheckpointWithLorasFromOptionsAndPromptTags)
{
    TempDir dir;
    std::filesystem::create_directories(dir / "loras");
    std::filesystem::copy_file(fixture("sd-lora/sd-tiny-random-lora-kohya.safetensors"),
                               dir / "loras/detail.safetensors");
    const std::string checkpoint = fixture("sd-single-file/sd-tiny-random.safetensors").string();
    const CliRun r = cli({"diffuse",
                          "--model",
                          checkpoint,
                          "--config",
                          sd().string(),
                          "--prompt",
                          "a photo of a hand <lora:detail:0.5>",
                          "--lora-dir",
                          (dir / "loras").string(),
                          "--lora",
                          fixture("sd-lora/sd-tiny-random-lora-kohya.safetensors").string() + ":0.25",
                          "--scheduler",
                          "DPM++ 2M Karras",
                          "--steps",
                          "2",
                          "--size",
                          "64x64",
                          "--out",
                          (dir / "image.png").string(),
                          "--heatmaps",
                          (dir / "maps").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    std::ifstream in(dir / "maps/index.json");
    const auto index = nlohmann::json::parse(in);
    EXPECT_EQ(index["prompt"], "a photo of a hand ");  // the tag is no word of the prompt
    ASSERT_EQ(index["loras"].size(), 2U);
    EXPECT_EQ(index["loras"][0]["strength"], 0.25);
    EXPECT_EQ(index["loras"][1]["strength"], 0.5);
    EXPECT_EQ(index["sampler"], "dpmpp_2m_karras");
    EXPECT_EQ(index["words"].size(), 4U);

    auto expectError = [&](const std::vector<std::string>& args, const std::string& fragment) {
        const CliRun e = cli(args);
        EXPECT_NE(e.code, 0) << fragment;
        EXPECT_NE(e.err.find(fragment), std::string::npos) << "wanted '" << fragment << "' in: " << e.err;
    };
    const std::string out = (dir / "x.png").string();
    expectError({"diffuse", "--model", sd().string(), "--prompt", "a <lora:detail:1>", "--out", out},
                "the prompt has <lora:…> tags: give --lora-dir DIR");
    expectError({"diffuse", "--model", sd().string(), "--prompt", "a", "--prediction-type", "x0", "--out", out},
                "--prediction-type must be epsilon or v_prediction");
    expectError({"diffuse", "--model", checkpoint, "--prompt", "a", "--out", out},
                "the text encoder is 32 wide, not a multiple of CLIP's 64-wide heads");
}

TEST(DiffuseCli, FromAnA1111PngAndItsOwnPngCarriesTheParameters)
{
    TempDir dir;
    const std::vector<uint8_t> pixels(8 * 8 * 3, 90);
    writeRgbPng(pixels, 8, 8, dir / "a1111.png",
                "a photo of a (hand:1.2)\nNegative prompt: blurry\nSteps: 2, Sampler: DPM++ 2M, Schedule type: Karras, "
                "CFG scale: 5, Seed: 3, Size: 64x64, Clip skip: 2, Hires upscale: 2, Model: sd-tiny");
    const CliRun r = cli({"diffuse", "--model", sd().string(), "--from-png", (dir / "a1111.png").string(), "--steps",
                          "3", "--out", (dir / "out.png").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("a1111.png: RNG not given (A1111's default: GPU)"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("Hires upscale (2) is not supported"), std::string::npos) << r.err;
    std::ifstream in(dir / "out.png", std::ios::binary);
    const std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto text = readPngText(png, "parameters", "out.png");
    ASSERT_TRUE(text);
    EXPECT_EQ(text->substr(0, text->find('\n')), "a photo of a (hand:1.2)");
    EXPECT_NE(text->find("Negative prompt: blurry\nSteps: 3, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 5, "
                         "Seed: 3, Size: 64x64, Model: sd-tiny-random, Clip skip: 2, RNG: CPU"),
              std::string::npos)
        << *text;
    const CliRun none = cli({"diffuse", "--model", sd().string(), "--from-png", (dir / "out.png").string() + ".none",
                             "--out", (dir / "x.png").string()});
    EXPECT_NE(none.err.find("cannot be opened"), std::string::npos) << none.err;
    writeRgbPng(pixels, 8, 8, dir / "plain.png");
    const CliRun plain = cli({"diffuse", "--model", sd().string(), "--from-png", (dir / "plain.png").string(), "--out",
                              (dir / "x.png").string()});
    EXPECT_NE(plain.err.find("plain.png: has no 'parameters' text"), std::string::npos) << plain.err;
}
