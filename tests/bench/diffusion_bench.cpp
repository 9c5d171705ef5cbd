// Seconds per UNet call (classifier-free guidance batch of 2) for the tiny reference pipeline and
// for an SD-1.5-shaped UNet (random weights, 64x64 latents = 512 px images), with DAAM capture on
// and off, plus peak resident memory. Prints one line per case; numbers go to the README.
//
//   build/release/tests/bench/spyglass_diffusion_bench [--sd15] [--calls N] [--device cuda]
#include "image/heatmap_recorder.h"
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

// The parameter names and shapes of an SD 1.5 UNet (diffusers layout), written with random F16
// values to a temporary unet/ folder.
std::filesystem::path makeSd15Unet()
{
    const auto dir = std::filesystem::temp_directory_path() / "spyglass-bench-sd15-unet";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "config.json")
        << R"({"_class_name":"UNet2DConditionModel","attention_head_dim":8,)"
           R"("block_out_channels":[320,640,1280,1280],"cross_attention_dim":768,)"
           R"("down_block_types":["CrossAttnDownBlock2D","CrossAttnDownBlock2D","CrossAttnDownBlock2D","DownBlock2D"],)"
           R"("up_block_types":["UpBlock2D","CrossAttnUpBlock2D","CrossAttnUpBlock2D","CrossAttnUpBlock2D"],)"
           R"("in_channels":4,"out_channels":4,"layers_per_block":2,"norm_num_groups":32,"sample_size":64})";
    if (std::filesystem::exists(dir / "diffusion_pytorch_model.safetensors")) return dir;
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.0F, 0.02F);
    SafetensorsWriter w;
    auto add = [&](const std::string& name, std::vector<int64_t> shape) {
        HostTensor t{std::move(shape), {}};
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
    auto resnet = [&](const std::string& p, int64_t in, int64_t out) {
        norm(p + ".norm1", in);
        conv(p + ".conv1", in, out, 3);
        linear(p + ".time_emb_proj", 1280, out);
        norm(p + ".norm2", out);
        conv(p + ".conv2", out, out, 3);
        if (in != out) conv(p + ".conv_shortcut", in, out, 1);
    };
    auto transformer = [&](const std::string& p, int64_t c) {
        norm(p + ".norm", c);
        conv(p + ".proj_in", c, c, 1);
        const std::string b = p + ".transformer_blocks.0";
        for (const char* n : {".norm1", ".norm2", ".norm3"}) norm(b + n, c);
        for (const char* a : {".attn1", ".attn2"}) {
            const int64_t ctx = std::strcmp(a, ".attn2") == 0 ? 768 : c;
            linear(b + a + ".to_q", c, c, false);
            linear(b + a + ".to_k", ctx, c, false);
            linear(b + a + ".to_v", ctx, c, false);
            linear(b + a + ".to_out.0", c, c);
        }
        linear(b + ".ff.net.0.proj", c, 8 * c);
        linear(b + ".ff.net.2", 4 * c, c);
        conv(p + ".proj_out", c, c, 1);
    };
    const std::vector<int64_t> ch{320, 640, 1280, 1280};
    linear("time_embedding.linear_1", 320, 1280);
    linear("time_embedding.linear_2", 1280, 1280);
    conv("conv_in", 4, 320, 3);
    int64_t in = 320;
    for (int i = 0; i < 4; ++i) {
        const std::string p = "down_blocks." + std::to_string(i);
        for (int j = 0; j < 2; ++j) {
            resnet(p + ".resnets." + std::to_string(j), j == 0 ? in : ch[i], ch[i]);
            if (i < 3) transformer(p + ".attentions." + std::to_string(j), ch[i]);
        }
        if (i < 3) conv(p + ".downsamplers.0.conv", ch[i], ch[i], 3);
        in = ch[i];
    }
    resnet("mid_block.resnets.0", 1280, 1280);
    transformer("mid_block.attentions.0", 1280);
    resnet("mid_block.resnets.1", 1280, 1280);
    int64_t previous = 1280;
    for (int i = 0; i < 4; ++i) {
        const std::string p = "up_blocks." + std::to_string(i);
        const int level = 3 - i;
        const int64_t out = ch[static_cast<size_t>(level)];
        const int64_t skipIn = ch[static_cast<size_t>(std::max(level - 1, 0))];
        for (int j = 0; j < 3; ++j) {
            resnet(p + ".resnets." + std::to_string(j), (j == 0 ? previous : out) + (j == 2 ? skipIn : out), out);
            if (i > 0) transformer(p + ".attentions." + std::to_string(j), out);
        }
        if (i < 3) conv(p + ".upsamplers.0.conv", out, out, 3);
        previous = out;
    }
    norm("conv_norm_out", 320);
    conv("conv_out", 320, 4, 3);
    w.write(dir / "diffusion_pytorch_model.safetensors");
    return dir;
}

void measure(const std::string& label, const UNetModel& unet, int64_t latent, int64_t contextWidth, int calls,
             torch::Device device)
{
    c10::InferenceMode guard;
    torch::manual_seed(0);
    const torch::Tensor x = torch::randn({2, unet.inChannels(), latent, latent}).to(device);
    const torch::Tensor context = torch::randn({2, 77, contextWidth}).to(device);
    std::vector<int64_t> keys;
    for (int64_t k = 0; k < 20; ++k) keys.push_back(k);
    for (const bool capture : {false, true}) {
        HeatmapRecorder recorder(unet.crossAttentionLayers(), keys, true);
        const CrossAttentionSink sink = capture ? recorder.sink() : CrossAttentionSink{};
        torch::Tensor out = unet.forward(x, 500, context, sink);  // warm-up
        if (capture) recorder.endCall();
        (void)out.sum().item<float>();
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < calls; ++i) {
            out = unet.forward(x, 999.0 - i, context, sink);
            if (capture) recorder.endCall();
        }
        (void)out.sum().item<float>();  // waits for the GPU's queue
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / calls;
        std::cout << label << ", capture " << (capture ? "on " : "off") << ": " << seconds
                  << " s per UNet call (batch 2), peak RSS " << peakRssMiB() << " MiB\n";
    }
}

}  // namespace

int main(int argc, char** argv)
{
    reexecWithTunedBlas(argc, argv);
    bool sd15 = false;
    int calls = 5;
    std::string device = "cpu";
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = argv[++i];
        if (std::strcmp(argv[i], "--sd15") == 0) sd15 = true;
        if (std::strcmp(argv[i], "--calls") == 0 && i + 1 < argc) calls = std::atoi(argv[++i]);
    }
    checkDevice(device);
    std::cout << runtimeDescription() << ", device " << device << "\n";
    const torch::Device where(device);
    const auto tiny = UNetModel::load(std::filesystem::path(SPYGLASS_FIXTURES_DIR) / "sd-tiny-random/unet", where);
    measure("sd-tiny-random 32x32 latents", *tiny, 32, tiny->contextWidth(), calls * 4, where);
    if (sd15) {
        const auto unet = UNetModel::load(makeSd15Unet(), where);
        measure("SD-1.5-shaped UNet, 64x64 latents", *unet, 64, 768, calls, where);
    }
    return 0;
}
