// spyglass_load_bench — how fast models open from the page cache, and with how much memory (#15).
//   spyglass_load_bench write        writes the bench models once to the temp folder and lists them
//   spyglass_load_bench load PATH    reads PATH's files once (page cache warm), then times
//                                    LanguageModel::load(PATH); prints seconds and GB/s of file
//   spyglass_load_bench touch GB     the machine's bound: writes GB of fresh memory once (huge
//                                    pages, two threads, as the loader does) and prints GB/s
// tests/bench/run_load_bench.sh runs each case under /usr/bin/time -v (peak memory) with an empty
// sha256 cache (a first open) and prints the table that the README shows.
#include "../core/gguf_builder.h"
#include "bench_model.h"

#include "spyglass/language_model.h"
#include "spyglass/runtime.h"
#include "spyglass/safetensors.h"

#include <sys/mman.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

using namespace spyglass::core;
namespace fs = std::filesystem;

namespace {

// A Llama of TinyLlama-1.1B's shape (22 layers, 2048 wide, 32 heads / 4 KV, MLP 5632, 32000
// tokens; 1.10 B parameters) in F16, as safetensors and as GGUF.
constexpr int64_t kL = 22, kD = 2048, kH = 32, kKv = 4, kF = 5632, kV = 32000;

std::vector<std::pair<std::string, std::vector<int64_t>>> llamaTensors()
{
    const int64_t hd = kD / kH;
    std::vector<std::pair<std::string, std::vector<int64_t>>> t{
        {"model.embed_tokens.weight", {kV, kD}}, {"model.norm.weight", {kD}}, {"lm_head.weight", {kV, kD}}};
    for (int i = 0; i < kL; ++i) {
        const std::string p = "model.layers." + std::to_string(i) + ".";
        t.push_back({p + "input_layernorm.weight", {kD}});
        t.push_back({p + "post_attention_layernorm.weight", {kD}});
        t.push_back({p + "self_attn.q_proj.weight", {kH * hd, kD}});
        t.push_back({p + "self_attn.k_proj.weight", {kKv * hd, kD}});
        t.push_back({p + "self_attn.v_proj.weight", {kKv * hd, kD}});
        t.push_back({p + "self_attn.o_proj.weight", {kD, kH * hd}});
        t.push_back({p + "mlp.gate_proj.weight", {kF, kD}});
        t.push_back({p + "mlp.up_proj.weight", {kF, kD}});
        t.push_back({p + "mlp.down_proj.weight", {kD, kF}});
    }
    return t;
}

std::string ggufName(const std::string& hf)
{
    static const std::pair<const char*, const char*> kParts[] = {
        {"input_layernorm", "attn_norm"}, {"post_attention_layernorm", "ffn_norm"},
        {"self_attn.q_proj", "attn_q"},   {"self_attn.k_proj", "attn_k"},
        {"self_attn.v_proj", "attn_v"},   {"self_attn.o_proj", "attn_output"},
        {"mlp.gate_proj", "ffn_gate"},    {"mlp.up_proj", "ffn_up"},
        {"mlp.down_proj", "ffn_down"}};
    if (hf == "model.embed_tokens.weight") return "token_embd.weight";
    if (hf == "model.norm.weight") return "output_norm.weight";
    if (hf == "lm_head.weight") return "output.weight";
    const size_t dot = hf.find('.', 13);  // after "model.layers.N"
    const std::string block = "blk." + hf.substr(13, dot - 13) + ".", rest = hf.substr(dot + 1);
    for (const auto& [from, to] : kParts)
        if (rest == std::string(from) + ".weight") return block + to + ".weight";
    throw std::runtime_error("unmapped " + hf);
}

fs::path writeLlama1b()
{
    const fs::path dir = fs::temp_directory_path() / "spyglass-bench-llama-1b-f16";
    const fs::path gguf = fs::temp_directory_path() / "spyglass-bench-llama-1b-f16.gguf";
    if (fs::exists(dir / "model.safetensors") && fs::exists(gguf)) return dir;
    fs::create_directories(dir);
    std::ofstream(dir / "config.json") << R"({"model_type":"llama","num_hidden_layers":22,"hidden_size":2048,)"
                                          R"("num_attention_heads":32,"num_key_value_heads":4,)"
                                          R"("intermediate_size":5632,"vocab_size":32000,)"
                                          R"("max_position_embeddings":2048,"rms_norm_eps":1e-5})";
    uint64_t state = 88172645463325252ull;  // xorshift: values in [-0.05, 0.05)
    SafetensorsWriter w;
    for (const auto& [name, shape] : llamaTensors()) {
        HostTensor t{shape, {}};
        t.values.resize(static_cast<size_t>(t.numel()));
        for (float& v : t.values) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            v = static_cast<float>(static_cast<double>(state >> 11) * 0x1.0p-53 - 0.5) * 0.1F;
        }
        w.addFloat(name, t, DType::F16);
    }
    w.write(dir / "model.safetensors");
    // The same F16 bytes as GGUF (llama.cpp's names; the Q/K permutation does not matter here).
    auto file = SafetensorsFile::open(dir / "model.safetensors");
    spyglass::test::GgufBuilder g;
    g.str("general.architecture", "llama");
    g.u32("llama.block_count", kL).u32("llama.context_length", 2048).u32("llama.embedding_length", kD);
    g.u32("llama.feed_forward_length", kF).u32("llama.attention.head_count", kH);
    g.u32("llama.attention.head_count_kv", kKv).f32("llama.attention.layer_norm_rms_epsilon", 1e-5F);
    for (const auto& view : file->tensors()) g.raw(ggufName(view.name), view.shape, 1, view.data, view.byteSize);
    g.write(gguf);
    return dir;
}

uint64_t warm(const fs::path& path)
{
    std::vector<fs::path> files;
    if (fs::is_directory(path)) {
        for (const auto& e : fs::directory_iterator(path)) files.push_back(e.path());
    } else {
        files.push_back(path);
    }
    uint64_t bytes = 0;
    std::vector<char> buffer(1 << 22);
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0)
            bytes += static_cast<uint64_t>(in.gcount());
    }
    return bytes;
}

}  // namespace

int main(int argc, char** argv)
{
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "write") {
        const fs::path gpt2 = makeBenchModel();
        const fs::path llama = writeLlama1b();
        std::cout << gpt2.string() << "\n" << llama.string() << "\n" << llama.string() << ".gguf\n";
        return 0;
    }
    if (command == "load" && argc > 2) {
        const fs::path path = argv[2];
        const uint64_t bytes = warm(path);
        const auto start = std::chrono::steady_clock::now();
        auto model = LanguageModel::load(path);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("%s\t%.3f GB\t%.3f s\t%.2f GB/s\t%d layers\t%s\n", path.filename().c_str(),
                    static_cast<double>(bytes) / 1e9, seconds, static_cast<double>(bytes) / 1e9 / seconds,
                    model->info().layerCount, runtimeDescription().c_str());
        return 0;
    }
    if (command == "touch" && argc > 2) {
        const auto bytes = static_cast<size_t>(std::stod(argv[2]) * 1e9) & ~size_t{4095};
        const auto start = std::chrono::steady_clock::now();
        auto* memory = static_cast<char*>(std::malloc(bytes));
        const uintptr_t huge = 2u << 20, begin = (reinterpret_cast<uintptr_t>(memory) + huge - 1) & ~(huge - 1);
        (void)::madvise(reinterpret_cast<void*>(begin), bytes - (begin - reinterpret_cast<uintptr_t>(memory)) - huge,
                        MADV_HUGEPAGE);
        std::thread helper([&] { std::memset(memory + bytes / 2, 1, bytes - bytes / 2); });
        std::memset(memory, 1, bytes / 2);
        helper.join();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("first write of %.2f GB of fresh memory: %.3f s, %.2f GB/s\n", static_cast<double>(bytes) / 1e9,
                    seconds, static_cast<double>(bytes) / 1e9 / seconds);
        std::free(memory);
        return 0;
    }
    std::cerr << "usage: spyglass_load_bench write | load PATH | touch GB\n";
    return 2;
}
