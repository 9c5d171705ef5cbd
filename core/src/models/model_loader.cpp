#include "io/gguf_file.h"
#include "io/json_file.h"
#include "io/sha256.h"
#include "io/weight_store.h"
#include "models/gguf_model_source.h"
#include "models/gpt2_model.h"
#include "models/language_model_impl.h"
#include "models/llama2c_loader.h"
#include "models/rotary_decoder_model.h"
#include "spyglass/error.h"
#include "spyglass/runtime.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <future>

namespace spyglass::core {

namespace fs = std::filesystem;

namespace {

const char* const kSupportedArchitectures =
    "gpt2 (GPT2LMHeadModel), llama (LlamaForCausalLM), mistral (MistralForCausalLM), qwen2 (Qwen2ForCausalLM), "
    "gpt_neox (GPTNeoXForCausalLM), gemma (GemmaForCausalLM), gemma2 (Gemma2ForCausalLM), phi3 (Phi3ForCausalLM), "
    "qwen3 (Qwen3ForCausalLM)";

// The families RotaryDecoderModel runs, by model_type, with their transformers class names.
const std::pair<const char*, const char*> kRotaryFamilies[] = {
    {"llama", "LlamaForCausalLM"},      {"mistral", "MistralForCausalLM"}, {"qwen2", "Qwen2ForCausalLM"},
    {"gpt_neox", "GPTNeoXForCausalLM"}, {"gemma", "GemmaForCausalLM"},     {"gemma2", "Gemma2ForCausalLM"},
    {"phi3", "Phi3ForCausalLM"},        {"qwen3", "Qwen3ForCausalLM"}};

bool isRotaryFamily(const std::string& architecture)
{
    for (const auto& [type, cls] : kRotaryFamilies)
        if (architecture == type) return true;
    return false;
}

std::string architectureOf(const nlohmann::json& config)
{
    if (config.contains("model_type") && config["model_type"].is_string())
        return config["model_type"].get<std::string>();
    if (config.contains("architectures") && config["architectures"].is_array() && !config["architectures"].empty()) {
        const std::string a = config["architectures"][0].get<std::string>();
        if (a == "GPT2LMHeadModel") return "gpt2";
        for (const auto& [type, cls] : kRotaryFamilies)
            if (a == cls) return type;
        return a;
    }
    return "";
}

std::string gib(uint64_t bytes)
{
    char text[32];
    const double b = static_cast<double>(bytes);
    if (bytes >= (1ull << 30))
        std::snprintf(text, sizeof text, "%.2f GiB", b / (1024.0 * 1024.0 * 1024.0));
    else
        std::snprintf(text, sizeof text, "%.1f MiB", b / (1024.0 * 1024.0));
    return text;
}

// Refused before any weight is read, with both numbers: the model's tensors as float32 (what
// Spyglass computes in) against what the system or the memory limit leaves.
void refuseIfTooLarge(const WeightStore& weights, const LoadOptions& options)
{
    if (options.device != "cpu") return;  // CUDA: one tensor at a time passes through host memory
    uint64_t needed = 0;
    for (const auto& name : weights.names()) {
        // Buffers that older exports store beside the weights and the models ignore.
        if (name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias") || name.ends_with(".attention.bias") ||
            name.ends_with(".attention.masked_bias") || name.ends_with("rotary_emb.inv_freq"))
            continue;
        uint64_t count = 1;
        for (int64_t d : weights.find(name)->tensorShape()) count *= static_cast<uint64_t>(std::max<int64_t>(d, 0));
        needed += count * sizeof(float);
    }
    const uint64_t available = availableMemoryBytes();
    if (needed > available)
        throw OutOfMemory("out of memory: the model's weights need " + gib(needed) + " as float32, but only " +
                          gib(available) + " is available" +
                          (memoryLimit() != 0 ? " under the memory limit of " + gib(memoryLimit()) : std::string()) +
                          "; nothing was loaded");
}

// A GGUF file: the model its metadata describes, on its tensors dequantized as ggml does, and
// the tokenizer it embeds (or --tokenizer's).
std::unique_ptr<LanguageModelImpl> loadGguf(const fs::path& file, const LoadOptions& options)
{
    checkDevice(options.device);
    const auto gguf = GgufFile::open(file);
    const GgufModelSource source = ggufModelSource(gguf);
    refuseIfTooLarge(source.weights, options);
    const torch::Device device(options.device);
    auto impl = std::make_unique<LanguageModelImpl>();
    if (source.architecture == "gpt2") {
        const Gpt2Config gpt2 = Gpt2Config::fromJson(source.config, file);
        impl->info = {file,       "gpt2",          gpt2.layerCount, gpt2.headCount,
                      gpt2.width, gpt2.innerWidth, gpt2.vocabSize,  gpt2.contextLength,
                      gpt2.eosId, gpt2.bosId,      options.device,  {}};
        impl->model = std::make_unique<Gpt2Model>(gpt2, source.weights, device, impl->info);
    } else {
        const RotaryConfig rotary = RotaryConfig::fromJson(source.config, file, source.architecture);
        impl->info = {file,         source.architecture, rotary.layerCount, rotary.headCount,
                      rotary.width, rotary.mlpWidth,     rotary.vocabSize,  rotary.contextLength,
                      rotary.eosId, rotary.bosId,        options.device,    {}};
        impl->model = std::make_unique<RotaryDecoderModel>(rotary, source.weights, device, impl->info);
    }
    std::error_code ec;
    impl->tokenizer = options.tokenizer.empty()                 ? Tokenizer::fromGguf(*gguf)
                      : fs::is_directory(options.tokenizer, ec) ? Tokenizer::loadFromFolder(options.tokenizer)
                                                                : Tokenizer::fromTokenizerJson(options.tokenizer);
    if (impl->tokenizer && impl->tokenizer->vocabSize() > impl->info.vocabSize)
        throw Error(impl->tokenizer->source() + ": the tokenizer has " + std::to_string(impl->tokenizer->vocabSize()) +
                    " tokens but the model's vocabulary has only " + std::to_string(impl->info.vocabSize));
    return impl;
}

std::unique_ptr<LanguageModelImpl> loadFolder(const fs::path& dir, const LoadOptions& options)
{
    std::error_code ec;
    if (!fs::exists(dir, ec)) throw Error("does not exist");
    if (!fs::is_directory(dir, ec)) {
        if (looksLikeGguf(dir)) return loadGguf(dir, options);
        if (looksLikeLlama2c(dir)) {
            const fs::path beside = dir.parent_path() / "tokenizer.bin";
            const fs::path tokenizer = !options.tokenizer.empty() ? options.tokenizer
                                       : fs::exists(beside, ec)   ? beside
                                                                  : fs::path();
            return loadLlama2c(dir, tokenizer, options);
        }
        if (isPickleFileName(dir))
            throw Error(
                "is a pickle checkpoint; Spyglass never unpickles (it can execute code). Save the weights as "
                "model.safetensors in a Hugging Face folder");
        throw Error(
            "is neither a model folder (config.json, model.safetensors), a GGUF file nor a llama2.c checkpoint");
    }
    const fs::path configPath = dir / "config.json";
    if (!fs::exists(configPath, ec)) {
        if (fs::is_empty(dir, ec))
            throw Error("the folder is empty (expected config.json, model.safetensors and tokenizer files)");
        throw Error("no config.json (not a Hugging Face model folder)");
    }
    const auto config = readJsonFile(configPath);
    if (!config.is_object()) throw Error(configPath.string() + ": not a JSON object");
    const std::string architecture = architectureOf(config);
    checkDevice(options.device);
    const torch::Device device(options.device);
    auto impl = std::make_unique<LanguageModelImpl>();
    if (architecture == "gpt2") {
        const Gpt2Config gpt2 = Gpt2Config::fromJson(config, configPath);
        const WeightStore weights = WeightStore::openFolder(dir);
        refuseIfTooLarge(weights, options);
        impl->info = {dir,        "gpt2",          gpt2.layerCount, gpt2.headCount,
                      gpt2.width, gpt2.innerWidth, gpt2.vocabSize,  gpt2.contextLength,
                      gpt2.eosId, gpt2.bosId,      options.device,  {}};
        impl->model = std::make_unique<Gpt2Model>(gpt2, weights, device, impl->info);
    } else if (isRotaryFamily(architecture)) {
        const RotaryConfig rotary = RotaryConfig::fromJson(config, configPath, architecture);
        const WeightStore weights = WeightStore::openFolder(dir);
        refuseIfTooLarge(weights, options);
        impl->info = {dir,          architecture,    rotary.layerCount, rotary.headCount,
                      rotary.width, rotary.mlpWidth, rotary.vocabSize,  rotary.contextLength,
                      rotary.eosId, rotary.bosId,    options.device,    {}};
        impl->model = std::make_unique<RotaryDecoderModel>(rotary, weights, device, impl->info);
    } else {
        throw Error(configPath.string() + ": architecture '" +
                    (architecture.empty() ? std::string("(none)") : architecture) +
                    "' is not supported (supported: " + kSupportedArchitectures + ")");
    }
    impl->tokenizer = Tokenizer::loadFromFolder(dir);
    if (impl->tokenizer && impl->tokenizer->vocabSize() > impl->info.vocabSize)
        throw Error(impl->tokenizer->source() + ": the tokenizer has " + std::to_string(impl->tokenizer->vocabSize()) +
                    " tokens but the model's vocabulary has only " + std::to_string(impl->info.vocabSize));
    return impl;
}

// Hashed at load, not when a report is written: the report names the weights that ran even if
// the folder is changed or deleted meanwhile.
std::string weightFilesSha256(const fs::path& path, const std::atomic<bool>* stop)
{
    std::vector<fs::path> files;
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
        files.push_back(path);
    } else {
        for (const auto& entry : fs::directory_iterator(path, ec))
            if (entry.path().extension() == ".safetensors") files.push_back(entry.path());
        std::sort(files.begin(), files.end());
    }
    return sha256FilesCached(files, stop);
}

}  // namespace

std::unique_ptr<LanguageModelImpl> loadLanguageModel(const fs::path& path, const LoadOptions& options)
{
    try {
        // The weights are hashed for the report's provenance on a second thread while they load
        // (a cached hash — same path, size and time — costs nothing); a failed load stops it.
        std::atomic<bool> stop{false};
        auto hash = std::async(std::launch::async, [&path, &stop] { return weightFilesSha256(path, &stop); });
        std::unique_ptr<LanguageModelImpl> impl;
        try {
            impl = loadFolder(path, options);
        } catch (...) {
            stop = true;
            hash.wait();
            throw;
        }
        impl->info.sha256 = hash.get();
        return impl;
    } catch (const Cancelled&) {
        throw;
    } catch (const Error& e) {
        throw e.withContext("loading model '" + path.string() + "'");
    } catch (const std::exception& e) {
        throw Error("loading model '" + path.string() + "': " + e.what());
    }
}

}  // namespace spyglass::core
