#include "cli/common_options.h"

#include <map>

#include "spyglass/error.h"
#include "spyglass/lora_tags.h"
#include "spyglass/runtime.h"

#include <chrono>
#include <cstdlib>
#include <iostream>

namespace spyglass::cli {

void addRuntimeOptions(ArgParser& parser, bool withDevice)
{
    if (withDevice) parser.addOption("device", "cpu|cuda", "where the model runs (default cpu)");
    parser.addOption("threads", "N",
                     "CPU threads for libtorch and BLAS (default " + std::to_string(core::kDefaultThreadCount) + ")");
    parser.addOption("memory-limit", "MiB",
                     "cap on host tensor memory; past it the run stops with 'out of memory' (default: none)");
}

void addModelOptions(ArgParser& parser)
{
    parser.addOption("model", "PATH", "Hugging Face model folder, or a llama2.c .bin checkpoint");
    parser.addOption("tokenizer", "FILE", "llama2.c: tokenizer.bin to use (default: one beside the checkpoint)");
    addRuntimeOptions(parser);
}

void addImageModelOptions(ArgParser& parser)
{
    parser.addOption("model", "PATH",
                     "diffusers Stable Diffusion 1.x/2.x folder (model_index.json, unet/, vae/, …) or an SD 1.x "
                     "single-file checkpoint (.safetensors in the LDM / A1111 layout)");
    parser.addOption("config", "DIR",
                     "single file: a diffusers folder whose configs give what the checkpoint cannot (heads, VAE "
                     "scaling, sample size, scheduler, tokenizer)");
    parser.addOption("vae", "F", "a VAE .safetensors (LDM or diffusers keys) replacing the model's");
    parser.addOption("prediction-type", "T", "epsilon or v_prediction (default: the scheduler config's)");
    parser.addOption("lora", "F[:S]", "a kohya LoRA .safetensors merged at strength S (default 1; repeatable)");
    parser.addOption("lora-dir", "DIR", "where the prompt's A1111 <lora:NAME:S> tags find NAME.safetensors");
    addRuntimeOptions(parser);
}

core::DiffusionLoadOptions imageLoadOptions(const ArgParser& parser, std::string* prompt)
{
    core::DiffusionLoadOptions o;
    o.configDir = parser.value("config").value_or("");
    o.vaePath = parser.value("vae").value_or("");
    o.predictionType = parser.value("prediction-type").value_or("");
    if (!o.predictionType.empty() && o.predictionType != "epsilon" && o.predictionType != "v_prediction")
        throw UsageError("--prediction-type must be epsilon or v_prediction (got '" + o.predictionType + "')");
    for (const std::string& spec : parser.values("lora")) {
        core::DiffusionLoadOptions::Lora l;
        const size_t colon = spec.rfind(':');
        l.path = spec;
        if (colon != std::string::npos && colon > 0) {
            const std::string strength = spec.substr(colon + 1);
            char* end = nullptr;
            const double value = std::strtod(strength.c_str(), &end);
            if (!strength.empty() && end == strength.c_str() + strength.size()) {
                l.path = spec.substr(0, colon);
                l.strength = value;
            }
        }
        o.loras.push_back(l);
    }
    if (prompt) {
        const core::LoraTags tags = core::extractLoraTags(*prompt);
        if (!tags.loras.empty()) {
            const auto dir = parser.value("lora-dir");
            if (!dir) throw UsageError("the prompt has <lora:…> tags: give --lora-dir DIR where NAME.safetensors are");
            for (const auto& t : tags.loras)
                o.loras.push_back({std::filesystem::path(*dir) / (t.name + ".safetensors"), t.weight});
            *prompt = tags.prompt;
        }
    }
    return o;
}

core::LoadOptions loadOptions(const ArgParser& parser, const std::string& device)
{
    core::LoadOptions o;
    o.device = device;
    o.tokenizer = parser.value("tokenizer").value_or("");
    return o;
}

std::string applyRuntimeOptions(const ArgParser& parser)
{
    const int threads = parser.intValue("threads", core::kDefaultThreadCount);
    if (threads < 1) throw UsageError("--threads must be at least 1");
    core::setThreadCount(threads);
    const int limit = parser.intValue("memory-limit", 0);
    if (limit < 0) throw UsageError("--memory-limit must be a number of MiB (0: none)");
    core::setMemoryLimit(static_cast<uint64_t>(limit) * 1024 * 1024);
    const std::string device = parser.value("device").value_or("cpu");
    core::checkDevice(device);
    return device;
}

std::vector<int> parseIds(const std::string& text, const std::string& option)
{
    std::vector<int> ids;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t end = text.find(',', pos);
        if (end == std::string::npos) end = text.size();
        const std::string item = text.substr(pos, end - pos);
        try {
            size_t used = 0;
            const long value = std::stol(item, &used);
            if (used != item.size() || value < 0 || value > 0x7fffffff) throw std::invalid_argument(item);
            ids.push_back(static_cast<int>(value));
        } catch (const std::exception&) {
            throw UsageError("--" + option + " expects comma-separated token ids, got '" + item + "'");
        }
        pos = end + 1;
    }
    return ids;
}

namespace {

std::function<void(const std::string&)>& progressSink()
{
    static std::function<void(const std::string&)> sink;
    return sink;
}

std::function<bool()>& cancelCheck()
{
    static std::function<bool()> check;
    return check;
}

}  // namespace

void setProgressSink(std::function<void(const std::string&)> sink, std::function<bool()> cancelled)
{
    progressSink() = std::move(sink);
    cancelCheck() = std::move(cancelled);
}

void logProgress(const std::string& line, bool force)
{
    if (cancelCheck() && cancelCheck()()) throw core::Cancelled();
    using Clock = std::chrono::steady_clock;
    static Clock::time_point last;
    const auto now = Clock::now();
    if (!force && now - last < std::chrono::milliseconds(100)) return;
    last = now;
    if (progressSink())
        progressSink()(line);
    else
        std::cerr << "spyglass-cli: " << line << '\n';
}

void parseSize(const std::string& text, int& width, int& height)
{
    const size_t x = text.find('x');
    try {
        if (x == std::string::npos) throw std::invalid_argument("no x");
        size_t used = 0;
        width = std::stoi(text.substr(0, x), &used);
        if (used != x) throw std::invalid_argument("width");
        height = std::stoi(text.substr(x + 1), &used);
        if (used != text.size() - x - 1) throw std::invalid_argument("height");
    } catch (const std::exception&) {
        throw UsageError("--size expects WxH (e.g. 512x512), got '" + text + "'");
    }
}

std::string flagForField(const std::string& field)
{
    static const std::map<std::string, std::string> kFlags{
        {"maxNewTokens", "--max-new-tokens"},
        {"temperature", "--temperature"},
        {"sampleTopK", "--sample-top-k"},
        {"sampleTopP", "--top-p"},
        {"saliencyMethods", "--saliency"},
        {"integratedGradientSteps", "--ig-steps"},
        {"lensTopK", "--top-k"},
        {"factorCount", "--factors"},
        {"factorLayers", "--factor-layers"},
        {"projectionMethod", "--projection"},
        {"projectionLayer", "--projection-layer"},
        {"clusterMethod", "--clusters-by"},
        {"threads", "--threads"},
        {"device", "--device"},
        {"size", "--size"},
        {"steps", "--steps"},
        {"guidance", "--guidance"},
        {"initLatents", "--init-latents"},
        {"separator", "--chunks-by"},
        {"base", "--base"},
        {"chunks", "--append"},
        {"seeds", "--seeds"},
        {"outDir", "--out"},
        {"prompts", "--prompts"},
        {"contrastWith", "--contrast-with"},
        {"continuation", "--continuation"},
        {"clean", "--clean"},
        {"corrupt", "--corrupt"},
        {"answer", "--answer"},
        {"wrong", "--wrong"},
        {"site", "--site"},
        {"batch", "--batch"},
        {"layer", "--layer"},
        {"positive", "--positive"},
        {"negative", "--negative"},
    };
    const auto it = kFlags.find(field);
    return it == kFlags.end() ? field : it->second;
}

}  // namespace spyglass::cli
