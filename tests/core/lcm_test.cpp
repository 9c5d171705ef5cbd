// LCM (#16): diffusers' LCMScheduler and the LCM-distilled UNet's guidance embedding, from
// diffusers' formulas (no reference run of LCM is in ../shared/reference: diffusers 0.21.2 predates
// it). The timesteps against the published 4-step schedule (999, 759, 499, 259) and the formula for
// 8; one step recomputed in float64 from the boundary condition with the same noise; the last step
// adds none; a distilled UNet whose cond_proj is zero runs exactly as the plain UNet without
// classifier-free guidance (LCM pipelines have none), and a non-zero one depends on the guidance.
#include "test_support.h"

#include "image/config_reader.h"
#include "image/scheduler.h"
#include "image/unet_model.h"
#include "spyglass/diffusion.h"
#include "spyglass/error.h"
#include "spyglass/safetensors.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using namespace spyglass::core;
using spyglass::test::fixture;
using spyglass::test::TempDir;

TEST(Lcm, TimestepsAndStepsFollowDiffusersFormulas)
{
    const ConfigReader config(fixture("sd-tiny-random/scheduler/scheduler_config.json"));
    auto lcm = Scheduler::create("LCM", config);  // the A1111 sampler name
    EXPECT_EQ(lcm->className(), "LCMScheduler");
    lcm->setTimesteps(4);
    EXPECT_EQ(lcm->timesteps(), (std::vector<double>{999, 759, 499, 259}));
    lcm->setTimesteps(8);  // indices ⌊j · 50 / 8⌋ = 0, 6, 12, 18, 25, 31, 37, 43 of 999, 979, …, 19
    EXPECT_EQ(lcm->timesteps(), (std::vector<double>{999, 879, 759, 639, 499, 379, 259, 139}));
    EXPECT_THROW(lcm->setTimesteps(51), Error);

    // ᾱ of the scaled-linear betas, in float64.
    std::vector<double> acp(1000);
    double prod = 1;
    for (int i = 0; i < 1000; ++i) {
        const double b = std::sqrt(0.00085) + (std::sqrt(0.012) - std::sqrt(0.00085)) * i / 999.0;
        prod *= 1 - b * b;
        acp[static_cast<size_t>(i)] = prod;
    }
    lcm->setTimesteps(4);
    torch::manual_seed(5);
    const torch::Tensor x = torch::randn({1, 4, 8, 8}), eps = torch::randn({1, 4, 8, 8});
    auto generator = at::detail::createCPUGenerator(11);
    const torch::Tensor next = lcm->step(eps, 0, x, generator);
    auto same = at::detail::createCPUGenerator(11);
    const torch::Tensor z = at::randn({1, 4, 8, 8}, same, torch::TensorOptions().dtype(torch::kFloat32));
    const auto expected = [&](int64_t t, int64_t prev, bool last, const torch::Tensor& noise) {
        const torch::Tensor xd = x.to(torch::kFloat64), ed = eps.to(torch::kFloat64);
        const double a = acp[static_cast<size_t>(t)], s = 10.0 * static_cast<double>(t);
        const torch::Tensor x0 = (xd - std::sqrt(1 - a) * ed) / std::sqrt(a);
        const torch::Tensor denoised = s / std::sqrt(s * s + 0.25) * x0 + 0.25 / (s * s + 0.25) * xd;
        if (last) return denoised;
        const double ap = acp[static_cast<size_t>(prev)];
        return std::sqrt(ap) * denoised + std::sqrt(1 - ap) * noise.to(torch::kFloat64);
    };
    EXPECT_TRUE(torch::allclose(next.to(torch::kFloat64), expected(999, 759, false, z), 1e-5, 1e-5));
    const torch::Tensor final = lcm->step(eps, 3, x, generator);
    EXPECT_TRUE(torch::allclose(final.to(torch::kFloat64), expected(259, 259, true, z), 1e-5, 1e-5));
}

TEST(Lcm, DistilledUNetTakesTheGuidanceAsAnEmbeddingWithoutCfg)
{
    // diffusers' get_guidance_scale_embedding by hand.
    const torch::Tensor e = guidanceScaleEmbedding(7.0, 8);
    ASSERT_EQ(e.sizes(), torch::IntArrayRef({1, 8}));
    for (int i = 0; i < 4; ++i) {
        const double arg = 7000.0 * std::exp(-i * std::log(10000.0) / 3.0);
        EXPECT_NEAR(e[0][i].item<double>(), std::sin(arg), 2e-3) << i;
        EXPECT_NEAR(e[0][4 + i].item<double>(), std::cos(arg), 2e-3) << i;
    }
    EXPECT_EQ(guidanceScaleEmbedding(0.0, 9)[0][8].item<float>(), 0.0F);  // odd width: zero-padded

    // The tiny pipeline's UNet made LCM-distilled: time_cond_proj_dim 8 and a cond_proj weight.
    TempDir dir;
    const auto makeLcm = [&](const std::string& name, float value) {
        const auto folder = dir / name;
        std::filesystem::copy(fixture("sd-tiny-random"), folder, std::filesystem::copy_options::recursive);
        nlohmann::json config = nlohmann::json::parse(std::ifstream(folder / "unet/config.json"));
        config["time_cond_proj_dim"] = 8;
        std::ofstream(folder / "unet/config.json") << config.dump(2);
        const auto unet = SafetensorsFile::open(fixture("sd-tiny-random/unet/diffusion_pytorch_model.safetensors"));
        SafetensorsWriter w;
        for (const auto& view : unet->tensors()) w.addFloat(view.name, unet->readFloat(view.name));
        std::vector<float> weight(32 * 8);
        for (size_t i = 0; i < weight.size(); ++i) weight[i] = value * static_cast<float>(std::sin(0.37 * double(i)));
        w.addFloat("time_embedding.cond_proj.weight", HostTensor{{32, 8}, weight});
        w.write(folder / "unet/diffusion_pytorch_model.safetensors");
        return folder;
    };
    const auto run = [](const std::filesystem::path& folder, double guidance) {
        DiffusionOptions o;
        o.prompt = "a photo of a hand";
        o.steps = 4;
        o.guidance = guidance;
        o.scheduler = "lcm";
        o.width = o.height = 32;
        o.seed = 2;
        o.heatmaps = false;
        return DiffusionModel::load(folder)->generate(o).latents;
    };
    const HostTensor plain = run(fixture("sd-tiny-random"), 1.0);  // no CFG
    EXPECT_EQ(run(makeLcm("zero", 0.0F), 8.0).values, plain.values);
    const auto distilled = makeLcm("distilled", 0.5F);
    const HostTensor g8 = run(distilled, 8.0), g2 = run(distilled, 2.0);
    EXPECT_NE(g8.values, plain.values);
    EXPECT_NE(g8.values, g2.values);
}
