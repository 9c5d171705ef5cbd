// Seconds per UNet call (classifier-free guidance batch of 2) for the tiny reference pipeline, an
// SD-1.5-shaped UNet (random weights, 64x64 latents = 512 px images) and an SDXL-shaped one (2.6 B
// parameters, 128x128 latents = 1024 px, text_time conditioning), with DAAM capture on and off,
// plus peak resident memory. Prints one line per case; numbers go to the README.
//
// With --run N it also times the UNet part of a whole run: N Euler steps with classifier-free guidance
// and DAAM capture, from noise to the last latents (text encoding and the VAE decode are not
// included: random-weight text encoders and VAEs of these sizes are not built here).
//
//   build/release/tests/bench/spyglass_diffusion_bench [--sd15] [--sdxl] [--calls N] [--run N] [--device cuda]
//   [--threads N]
#include "image/config_reader.h"
#include "image/heatmap_recorder.h"
#include "image/scheduler.h"
#include "image/unet_model.h"
#include "spyglass/runtime.h"
#include "spyglass/safetensors.h"

#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <string>

using namespace spyglass::core;

namespace {

long peakRssMiB()
{
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6)) / 1024;
    return -1;
}

// A UNet's architecture: channels, attention and transformer depth per level, cross-attention
// width, projections, SDXL's text_time conditioning.
struct UnetShape {
    std::string folder, config;
    std::vector<int64_t> channels, depth;
    std::vector<bool> attention;
    int64_t context = 768;
    bool linearProjection = false;
    int64_t addTimeDim = 0, pooled = 0;
};

UnetShape sd15Shape()
{
    return {
        "spyglass-bench-sd15-unet",
        R"({"_class_name":"UNet2DConditionModel","attention_head_dim":8,)"
        R"("block_out_channels":[320,640,1280,1280],"cross_attention_dim":768,)"
        R"("down_block_types":["CrossAttnDownBlock2D","CrossAttnDownBlock2D","CrossAttnDownBlock2D","DownBlock2D"],)"
        R"("up_block_types":["UpBlock2D","CrossAttnUpBlock2D","CrossAttnUpBlock2D","CrossAttnUpBlock2D"],)"
        R"("in_channels":4,"out_channels":4,"layers_per_block":2,"norm_num_groups":32,"sample_size":64})",
        {320, 640, 1280, 1280},
        {1, 1, 1, 1},
        {true, true, true, false},
        768,
        false,
        0,
        0};
}

// stabilityai/stable-diffusion-xl-base-1.0's unet/config.json (2.6 B parameters).
UnetShape sdxlShape()
{
    return {"spyglass-bench-sdxl-unet",
            R"({"_class_name":"UNet2DConditionModel","attention_head_dim":[5,10,20],)"
            R"("block_out_channels":[320,640,1280],"cross_attention_dim":2048,)"
            R"("down_block_types":["DownBlock2D","CrossAttnDownBlock2D","CrossAttnDownBlock2D"],)"
            R"("up_block_types":["CrossAttnUpBlock2D","CrossAttnUpBlock2D","UpBlock2D"],)"
            R"("transformer_layers_per_block":[1,2,10],"use_linear_projection":true,)"
            R"("addition_embed_type":"text_time","addition_time_embed_dim":256,)"
            R"("projection_class_embeddings_input_dim":2816,)"
            R"("in_channels":4,"out_channels":4,"layers_per_block":2,"norm_num_groups":32,"sample_size":128})",
            {320, 640, 1280},
            {1, 2, 10},
            {false, true, true},
            2048,
            true,
            256,
            1280};
}

// The parameter names and shapes of `shape` (diffusers layout), written with random F16 values to
// a temporary unet/ folder (kept for the next run).
std::filesystem::path makeUnet(const UnetShape& shape)
{
    const auto dir = std::filesystem::temp_directory_path() / shape.folder;
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "config.json") << shape.config;
    if (std::filesystem::exists(dir / "diffusion_pytorch_model.safetensors")) return dir;
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0F, 0.02F);
    SafetensorsWriter w;
    auto add = [&](const std::string& name, std::vector<int64_t> dims) {
        HostTensor t{std::move(dims), {}};
        t.values.resize(static_cast<size_t>(t.numel()));
        const bool gain = name.find("norm") != std::string::npos && name.size() > 7 &&
                          name.compare(name.size() - 7, 7, ".weight") == 0;
        for (auto& v : t.values) v = gain ? 1.0F + normal(rng) : normal(rng);
        w.addFloat(name, t, DType::F16);
    };
    auto conv = [&](const std::string& p, int64_t in, int64_t out, int64_t k) {
        add(p + ".weight", {out, in, k, k});
        add(p + ".bias", {out});
    };
    auto linear = [&](const std::string& p, int64_t in, int64_t out, bool bias = true) {
        add(p + ".weight", {out, in});
        if (bias) add(p + ".bias", {out});
    };
    auto norm = [&](const std::string& p, int64_t c) {
        add(p + ".weight", {c});
        add(p + ".bias", {c});
    };
    const int64_t base = shape.channels.front(), timeDim = 4 * base;
    auto resnet = [&](const std::string& p, int64_t in, int64_t out) {
        norm(p + ".norm1", in);
        conv(p + ".conv1", in, out, 3);
        linear(p + ".time_emb_proj", timeDim, out);
        norm(p + ".norm2", out);
        conv(p + ".conv2", out, out, 3);
        if (in != out) conv(p + ".conv_shortcut", in, out, 1);
    };
    auto projection = [&](const std::string& p, int64_t c) {
        if (shape.linearProjection)
            linear(p, c, c);
        else
            conv(p, c, c, 1);
    };
    auto transformer = [&](const std::string& p, int64_t c, int64_t depth) {
        norm(p + ".norm", c);
        projection(p + ".proj_in", c);
        for (int64_t d = 0; d < depth; ++d) {
            const std::string b = p + ".transformer_blocks." + std::to_string(d);
            for (const char* n : {".norm1", ".norm2", ".norm3"}) norm(b + n, c);
            for (const char* a : {".attn1", ".attn2"}) {
                const int64_t ctx = std::strcmp(a, ".attn2") == 0 ? shape.context : c;
                linear(b + a + ".to_q", c, c, false);
                linear(b + a + ".to_k", ctx, c, false);
                linear(b + a + ".to_v", ctx, c, false);
                linear(b + a + ".to_out.0", c, c);
            }
            linear(b + ".ff.net.0.proj", c, 8 * c);
            linear(b + ".ff.net.2", 4 * c, c);
        }
        projection(p + ".proj_out", c);
    };
    const auto& ch = shape.channels;
    const auto levels = static_cast<int>(ch.size());
    linear("time_embedding.linear_1", base, timeDim);
    linear("time_embedding.linear_2", timeDim, timeDim);
    if (shape.addTimeDim > 0) {
        linear("add_embedding.linear_1", shape.pooled + 6 * shape.addTimeDim, timeDim);
        linear("add_embedding.linear_2", timeDim, timeDim);
    }
    conv("conv_in", 4, base, 3);
    int64_t in = base;
    for (int i = 0; i < levels; ++i) {
        const auto l = static_cast<size_t>(i);
        const std::string p = "down_blocks." + std::to_string(i);
        for (int j = 0; j < 2; ++j) {
            resnet(p + ".resnets." + std::to_string(j), j == 0 ? in : ch[l], ch[l]);
            if (shape.attention[l]) transformer(p + ".attentions." + std::to_string(j), ch[l], shape.depth[l]);
        }
        if (i + 1 < levels) conv(p + ".downsamplers.0.conv", ch[l], ch[l], 3);
        in = ch[l];
    }
    resnet("mid_block.resnets.0", ch.back(), ch.back());
    transformer("mid_block.attentions.0", ch.back(), shape.depth.back());
    resnet("mid_block.resnets.1", ch.back(), ch.back());
    int64_t previous = ch.back();
    for (int i = 0; i < levels; ++i) {
        const std::string p = "up_blocks." + std::to_string(i);
        const auto level = static_cast<size_t>(levels - 1 - i);
        const int64_t out = ch[level];
        const int64_t skipIn = ch[level == 0 ? 0 : level - 1];
        for (int j = 0; j < 3; ++j) {
            resnet(p + ".resnets." + std::to_string(j), (j == 0 ? previous : out) + (j == 2 ? skipIn : out), out);
            if (shape.attention[level]) transformer(p + ".attentions." + std::to_string(j), out, shape.depth[level]);
        }
        if (i + 1 < levels) conv(p + ".upsamplers.0.conv", out, out, 3);
        previous = out;
    }
    norm("conv_norm_out", base);
    conv("conv_out", base, 4, 3);
    w.write(dir / "diffusion_pytorch_model.safetensors");
    return dir;
}

// A guidance batch's random text conditioning (SDXL: pooled embeddings and size ids too) and the
// 20 token rows DAAM records.
struct Conditioning {
    torch::Tensor context;
    AddedConditioning added;
    std::vector<int64_t> keys;
};

Conditioning conditioning(const UNetModel& unet, int64_t latent, int64_t contextWidth, torch::Device device)
{
    Conditioning c;
    c.context = torch::randn({2, 77, contextWidth}).to(device);
    if (unet.pooledWidth() > 0) {
        c.added.textEmbeds = torch::randn({2, unet.pooledWidth()}).to(device);
        const double side = static_cast<double>(latent * 8);
        c.added.timeIds = torch::tensor({side, side, 0.0, 0.0, side, side}, torch::kFloat32).repeat({2, 1}).to(device);
    }
    for (int64_t k = 0; k < 20; ++k) c.keys.push_back(k);
    return c;
}

void measure(const std::string& label, const UNetModel& unet, int64_t latent, int64_t contextWidth, int calls,
             torch::Device device)
{
    c10::InferenceMode guard;
    torch::manual_seed(0);
    const torch::Tensor x = torch::randn({2, unet.inChannels(), latent, latent}).to(device);
    const Conditioning c = conditioning(unet, latent, contextWidth, device);
    for (const bool capture : {false, true}) {
        HeatmapRecorder recorder(unet.crossAttentionLayers(), c.keys, true);
        const CrossAttentionSink sink = capture ? recorder.sink() : CrossAttentionSink{};
        torch::Tensor out = unet.forward(x, 500, c.context, sink, c.added);  // warm-up
        if (capture) recorder.endCall();
        (void)out.sum().item<float>();
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < calls; ++i) {
            out = unet.forward(x, 999.0 - i, c.context, sink, c.added);
            if (capture) recorder.endCall();
        }
        (void)out.sum().item<float>();  // waits for the GPU's queue
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / calls;
        std::cout << label << ", capture " << (capture ? "on " : "off") << ": " << seconds
                  << " s per UNet call (batch 2), peak RSS " << peakRssMiB() << " MiB\n";
    }
}

// The denoising loop of a whole run: `steps` Euler steps (SD 1.5's scheduler config), guidance 7.5,
// DAAM capture on, as DiffusionModel::generate runs the UNet.
void measureRun(const std::string& label, const UNetModel& unet, int64_t latent, int64_t contextWidth, int steps,
                torch::Device device)
{
    c10::InferenceMode guard;
    torch::manual_seed(0);
    const ConfigReader config(nlohmann::json::parse(R"({"_class_name": "EulerDiscreteScheduler", "beta_end": 0.012,
        "beta_schedule": "scaled_linear", "beta_start": 0.00085, "num_train_timesteps": 1000,
        "prediction_type": "epsilon", "steps_offset": 1, "timestep_spacing": "leading"})"),
                              "bench scheduler");
    auto scheduler = Scheduler::create("euler", config);
    scheduler->setTimesteps(steps);
    const Conditioning c = conditioning(unet, latent, contextWidth, device);
    HeatmapRecorder recorder(unet.crossAttentionLayers(), c.keys, true);
    auto generator = at::detail::createCPUGenerator(0);
    const auto start = std::chrono::steady_clock::now();
    torch::Tensor x = (torch::randn({1, unet.inChannels(), latent, latent}) * scheduler->initNoiseSigma()).to(device);
    const auto& timesteps = scheduler->timesteps();
    for (size_t call = 0; call < timesteps.size(); ++call) {
        const torch::Tensor input = scheduler->scaleModelInput(torch::cat({x, x}, 0), call);
        const auto halves = unet.forward(input, timesteps[call], c.context, recorder.sink(), c.added).chunk(2, 0);
        recorder.endCall();
        x = scheduler->step(halves[0] + 7.5 * (halves[1] - halves[0]), call, x, generator);
    }
    (void)x.sum().item<float>();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << label << ", whole run's denoising (" << steps << " Euler steps, CFG, capture on): " << seconds
              << " s, peak RSS " << peakRssMiB() << " MiB\n";
}

}  // namespace

int main(int argc, char** argv)
{
    reexecWithTunedBlas(argc, argv);
    bool sd15 = false, sdxl = false;
    int calls = 5, run = 0;
    std::string device = "cpu";
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = argv[++i];
        if (std::strcmp(argv[i], "--sd15") == 0) sd15 = true;
        if (std::strcmp(argv[i], "--sdxl") == 0) sdxl = true;
        if (std::strcmp(argv[i], "--calls") == 0 && i + 1 < argc) calls = std::atoi(argv[++i]);
        if (std::strcmp(argv[i], "--run") == 0 && i + 1 < argc) run = std::atoi(argv[++i]);
        if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) setThreadCount(std::atoi(argv[++i]));
    }
    checkDevice(device);
    std::cout << runtimeDescription() << ", device " << device << "\n";
    const torch::Device where(device);
    const auto tiny = UNetModel::load(std::filesystem::path(SPYGLASS_FIXTURES_DIR) / "sd-tiny-random/unet", where);
    if (calls > 0) measure("sd-tiny-random 32x32 latents", *tiny, 32, tiny->contextWidth(), calls * 4, where);
    if (run > 0) measureRun("sd-tiny-random 32x32 latents", *tiny, 32, tiny->contextWidth(), run, where);
    if (sd15) {
        const auto unet = UNetModel::load(makeUnet(sd15Shape()), where);
        if (calls > 0) measure("SD-1.5-shaped UNet, 64x64 latents", *unet, 64, 768, calls, where);
        if (run > 0) measureRun("SD-1.5-shaped UNet, 64x64 latents", *unet, 64, 768, run, where);
    }
    if (sdxl) {
        const auto unet = UNetModel::load(makeUnet(sdxlShape()), where);
        if (calls > 0) measure("SDXL-shaped UNet, 128x128 latents", *unet, 128, 2048, calls, where);
        if (run > 0) measureRun("SDXL-shaped UNet, 128x128 latents", *unet, 128, 2048, run, where);
    }
    return 0;
}
