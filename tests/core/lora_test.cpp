// kohya LoRAs (#16) against diffusers 0.21.2's load_lora_weights on the tiny pipeline
// (tests/fixtures/sd-lora): Euler runs at strength 1 and 0.5 — text embeddings through the LoRA'd
// encoder 1e-5, latents 2e-3, image 5e-4, uint8 off by ≤ 1 on ≤ 0.5% — plus A1111's <lora:…> tags
// and one clear message per malformed file.
#include "test_support.h"

#include "image/ldm_unet_names.h"
#include "image/lora.h"
#include "spyglass/diffusion.h"
#include "spyglass/error.h"
#include "spyglass/lora_tags.h"
#include "spyglass/safetensors.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using namespace spyglass::core;
using spyglass::test::allClose;
using spyglass::test::errorOf;
using spyglass::test::fixture;
using spyglass::test::TempDir;

namespace {

const SafetensorsFile& loraReference()
{
    static const auto file = SafetensorsFile::open(fixture("sd-lora/reference.safetensors"));
    return *file;
}

std::filesystem::path loraFile()
{
    return fixture("sd-lora/sd-tiny-random-lora-kohya.safetensors");
}

}  // namespace

TEST(Lora, MergedRunsAtTwoStrengthsEqualDiffusers)
{
    for (const auto& [prefix, strength] :
         std::vector<std::pair<std::string, double>>{{"scale1", 1.0}, {"scale0_5", 0.5}}) {
        DiffusionLoadOptions load;
        load.loras.push_back({loraFile(), strength});
        auto model = DiffusionModel::load(fixture("sd-tiny-random"), "cpu", load);
        DiffusionOptions o;
        o.prompt = "a photo of a hand, masterpiece, best quality, detailed fingers";
        o.steps = 10;
        o.guidance = 7.5;
        o.schedulerConfig = fixture("sd-tiny-random/schedulers/euler/scheduler_config.json");
        o.heatmaps = false;
        o.initLatents = loraReference().readFloat("initial_noise");
        const DiffusionResult r = model->generate(o);
        EXPECT_TRUE(allClose(r.promptEmbeds, loraReference().readFloat(prefix + ".prompt_embeds"), 1e-5, 0)) << prefix;
        EXPECT_TRUE(allClose(r.latents, loraReference().readFloat(prefix + ".latents"), 2e-3, 0)) << prefix;
        EXPECT_TRUE(allClose(r.image, loraReference().readFloat(prefix + ".image"), 5e-4, 0)) << prefix;
        const HostTensor rgb = loraReference().readFloat(prefix + ".image_uint8");
        ASSERT_EQ(r.rgb.size(), rgb.values.size());
        size_t off = 0;
        for (size_t i = 0; i < r.rgb.size(); ++i) {
            const double d = std::abs(double(r.rgb[i]) - rgb.values[i]);
            EXPECT_LE(d, 1.0) << prefix << " " << i;
            off += d > 0 ? 1 : 0;
        }
        EXPECT_LE(off, r.rgb.size() / 200) << prefix;
    }
}

TEST(Lora, A1111TagsAndMalformedFilesGiveOneClearLine)
{
    const LoraTags tags = extractLoraTags("a hand <lora:detail:0.6>, best <lora:style> quality");
    EXPECT_EQ(tags.prompt, "a hand , best  quality");
    ASSERT_EQ(tags.loras.size(), 2U);
    EXPECT_EQ(tags.loras[0].name, "detail");
    EXPECT_DOUBLE_EQ(tags.loras[0].weight, 0.6);
    EXPECT_DOUBLE_EQ(tags.loras[1].weight, 1.0);
    EXPECT_EQ(extractLoraTags("no tags (x:1.2)").prompt, "no tags (x:1.2)");
    for (const auto& [bad, fragment] :
         std::vector<std::pair<std::string, std::string>>{{"a <lora:x:abc>", "weight that is not a number"},
                                                          {"a <lora:>", "names no LoRA"},
                                                          {"a <lora:../x:1>", "not a path"},
                                                          {"a <lora:x:1", "no closing"},
                                                          {"<lora:x:1:0.5>", "more than one weight"}})
        EXPECT_NE(errorOf([&] { (void)extractLoraTags(bad); }).find(fragment), std::string::npos) << bad;

    EXPECT_EQ(Lora::open(loraFile(), 0.8)->moduleCount(), 48U);
    TempDir dir;
    auto write = [&](const std::string& name,
                     const std::vector<std::pair<std::string, std::vector<int64_t>>>& tensors) {
        SafetensorsWriter w;
        for (const auto& [key, shape] : tensors) {
            int64_t n = 1;
            for (int64_t d : shape) n *= d;
            w.addFloat(key, HostTensor{shape, std::vector<float>(static_cast<size_t>(n), 0.1F)});
        }
        w.write(dir / name);
        return dir / name;
    };
    const std::string m = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q";
    EXPECT_NE(errorOf([&] {
                  (void)Lora::open(write("up.safetensors", {{m + ".lora_down.weight", {4, 32}}}), 1);
              }).find("up.safetensors: module '" + m + "' lacks its lora_up.weight"),
              std::string::npos);
    EXPECT_NE(errorOf([&] {
                  (void)Lora::open(write("loha.safetensors", {{m + ".hada_w1_a", {4, 32}}}), 1);
              }).find("is a LyCORIS (LoHa/LoKr) tensor"),
              std::string::npos);
    EXPECT_NE(errorOf([&] {
                  (void)Lora::open(write("te3.safetensors",
                                         {{"lora_te3_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", {4, 32}}}),
                                   1);
              }).find("adapts no part Spyglass loads"),
              std::string::npos);
    EXPECT_NE(errorOf([&] {
                  (void)Lora::open(
                      write("rank.safetensors", {{m + ".lora_down.weight", {4, 32}}, {m + ".lora_up.weight", {32, 3}}}),
                      1);
              }).find("do not make a rank-r update"),
              std::string::npos);
    // A LoRA for another base model: a module that matches no layer, or one whose shapes do not fit.
    const auto other =
        write("other.safetensors", {{"lora_unet_input_blocks_40_1_proj_in.lora_down.weight", {4, 32}},
                                    {"lora_unet_input_blocks_40_1_proj_in.lora_up.weight", {32, 4}},
                                    {"lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", {4, 32}},
                                    {"lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", {37, 4}}});
    DiffusionLoadOptions load;
    load.loras.push_back({other, 1.0});
    EXPECT_NE(errorOf([&] { (void)DiffusionModel::load(fixture("sd-tiny-random"), "cpu", load); })
                  .find("other.safetensors: LoRA module 'lora_te2_text_model_encoder_layers_0_mlp_fc1' matches no "
                        "layer of the model"),
              std::string::npos);
    load.loras[0].path =
        write("misfit.safetensors", {{m + ".lora_down.weight", {4, 16}}, {m + ".lora_up.weight", {32, 4}}});
    EXPECT_NE(errorOf([&] {
                  (void)DiffusionModel::load(fixture("sd-tiny-random"), "cpu", load);
              }).find("does not fit 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight'"),
              std::string::npos);
}

// kohya names SDXL's UNet modules by the original LDM layout (input_blocks / middle_block /
// output_blocks). The inverse name map is checked against the value-matched key maps of both
// single-file fixtures (every UNet key), and a LoRA over every UNet Linear and convolution of the
// tiny SDXL written with LDM names must give the same run as the same LoRA written with diffusers
// names (and not the run without it).
TEST(Lora, SdxlUnetModulesNamedTheLdmWayMergeAsTheirDiffusersNames)
{
    for (const std::string which : {"sd-tiny-random", "sdxl-tiny-random"}) {
        std::ifstream in(fixture("sd-single-file/" + which + ".keymap.json"));
        const auto keymap = nlohmann::json::parse(in);
        std::vector<std::string> names;
        std::map<std::string, std::string> expected;
        for (const auto& [ldm, target] : keymap.items()) {
            const std::string t = target.get<std::string>();
            if (ldm.rfind("model.diffusion_model.", 0) != 0 || t.rfind("unet.", 0) != 0) continue;
            names.push_back(t.substr(5));
            expected[t.substr(5)] = ldm.substr(22);
        }
        const auto mapped = ldmUnetNames(names);
        EXPECT_EQ(mapped.size(), names.size()) << which;
        for (const auto& [diffusers, ldm] : expected)
            EXPECT_EQ(mapped.count(diffusers) ? mapped.at(diffusers) : "(none)", ldm) << which << " " << diffusers;
    }

    const auto unet = SafetensorsFile::open(fixture("sdxl-tiny-random/unet/diffusion_pytorch_model.safetensors"));
    std::vector<std::string> names;
    for (const auto& view : unet->tensors()) names.push_back(view.name);
    const auto ldm = ldmUnetNames(names);
    TempDir dir;
    SafetensorsWriter byDiffusers, byLdm;
    size_t modules = 0;
    for (const auto& view : unet->tensors()) {
        const auto& shape = view.shape;
        if (view.name.size() < 7 || view.name.substr(view.name.size() - 7) != ".weight" ||
            (shape.size() != 2 && shape.size() != 4))
            continue;
        const int64_t rank = 2, out = shape[0], in = view.numel() / shape[0];
        std::vector<int64_t> downShape = shape, upShape{out, rank};
        downShape[0] = rank;
        if (shape.size() == 4) upShape.insert(upShape.end(), {1, 1});
        std::vector<float> down(static_cast<size_t>(rank * in)), up(static_cast<size_t>(out * rank));
        for (size_t i = 0; i < down.size(); ++i)
            down[i] = 0.05F * static_cast<float>(std::sin(0.7 * double(i + modules)));
        for (size_t i = 0; i < up.size(); ++i) up[i] = 0.05F * static_cast<float>(std::cos(0.3 * double(i) + modules));
        const auto kohya = [](std::string path) {
            path.resize(path.size() - 7);
            for (char& c : path)
                if (c == '.') c = '_';
            return "lora_unet_" + path;
        };
        ASSERT_TRUE(ldm.count(view.name)) << view.name;
        for (auto [writer, module] :
             {std::pair{&byDiffusers, kohya(view.name)}, std::pair{&byLdm, kohya(ldm.at(view.name))}}) {
            writer->addFloat(module + ".lora_down.weight", HostTensor{downShape, down});
            writer->addFloat(module + ".lora_up.weight", HostTensor{upShape, up});
            writer->addFloat(module + ".alpha", HostTensor{{}, {1.0F}});
        }
        ++modules;
    }
    EXPECT_GT(modules, 100U);
    byDiffusers.write(dir / "diffusers-names.safetensors");
    byLdm.write(dir / "ldm-names.safetensors");
    EXPECT_EQ(Lora::open(dir / "ldm-names.safetensors", 1)->moduleCount(), modules);

    const auto run = [&](const std::filesystem::path& lora) {
        DiffusionLoadOptions load;
        if (!lora.empty()) load.loras.push_back({lora, 0.7});
        auto model = DiffusionModel::load(fixture("sdxl-tiny-random"), "cpu", load);  // every module used
        DiffusionOptions o;
        o.prompt = "a red fox";
        o.steps = 2;
        o.heatmaps = false;
        o.seed = 3;
        return model->generate(o).latents;
    };
    const HostTensor plain = run({}), viaDiffusers = run(dir / "diffusers-names.safetensors"),
                     viaLdm = run(dir / "ldm-names.safetensors");
    EXPECT_EQ(viaLdm.values, viaDiffusers.values);
    EXPECT_FALSE(allClose(viaLdm, plain, 1e-3, 0));
}
