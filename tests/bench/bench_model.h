#pragma once
// A GPT-2-small-shaped model with random weights (12 layers, 768 wide, 12 heads, vocab 50257),
// written once to the temp folder and loaded through the normal loader by the benchmarks.
#include "spyglass/safetensors.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace spyglass::core {

constexpr int64_t kLayers = 12, kWidth = 768, kHeads = 12, kVocab = 50257, kContext = 1024;

inline std::filesystem::path makeBenchModel()
{
    static std::filesystem::path dir;
    if (!dir.empty()) return dir;
    dir = std::filesystem::temp_directory_path() / "spyglass-bench-gpt2-small";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "config.json")
        << R"({"model_type":"gpt2","n_layer":12,"n_head":12,"n_embd":768,"vocab_size":50257,)"
           R"("n_positions":1024,"activation_function":"gelu_new","layer_norm_epsilon":1e-5})";
    if (std::filesystem::exists(dir / "model.safetensors")) return dir;
    std::mt19937 rng(1234);
    std::normal_distribution<float> normal(0.0F, 0.02F);
    SafetensorsWriter w;
    auto add = [&](const std::string& name, std::vector<int64_t> shape, bool ones = false) {
        HostTensor t{shape, {}};
        t.values.resize(static_cast<size_t>(t.numel()));
        for (auto& v : t.values) v = ones ? 1.0F : normal(rng);
        w.addFloat(name, t);
    };
    add("wte.weight", {kVocab, kWidth});
    add("wpe.weight", {kContext, kWidth});
    for (int i = 0; i < kLayers; ++i) {
        const std::string p = "h." + std::to_string(i) + ".";
        add(p + "ln_1.weight", {kWidth}, true);
        add(p + "ln_1.bias", {kWidth});
        add(p + "attn.c_attn.weight", {kWidth, 3 * kWidth});
        add(p + "attn.c_attn.bias", {3 * kWidth});
        add(p + "attn.c_proj.weight", {kWidth, kWidth});
        add(p + "attn.c_proj.bias", {kWidth});
        add(p + "ln_2.weight", {kWidth}, true);
        add(p + "ln_2.bias", {kWidth});
        add(p + "mlp.c_fc.weight", {kWidth, 4 * kWidth});
        add(p + "mlp.c_fc.bias", {4 * kWidth});
        add(p + "mlp.c_proj.weight", {4 * kWidth, kWidth});
        add(p + "mlp.c_proj.bias", {kWidth});
    }
    add("ln_f.weight", {kWidth}, true);
    add("ln_f.bias", {kWidth});
    w.write(dir / "model.safetensors");
    return dir;
}

}  // namespace spyglass::core
