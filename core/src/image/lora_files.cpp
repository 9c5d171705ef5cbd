#include "spyglass/lora_files.h"

#include "spyglass/error.h"

#include <algorithm>

namespace spyglass::core {

namespace fs = std::filesystem;

bool sameFile(const fs::path& a, const fs::path& b)
{
    std::error_code ec;
    const bool same = fs::equivalent(a, b, ec);
    return ec ? fs::absolute(a, ec).lexically_normal() == fs::absolute(b, ec).lexically_normal() : same;
}

fs::path findLoraFile(const std::string& name, const fs::path& model,
                      const std::vector<DiffusionLoadOptions::Lora>& loras)
{
    std::vector<fs::path> folders;
    for (const auto& l : loras) folders.push_back(fs::absolute(l.path).parent_path());
    std::error_code ec;
    folders.push_back(fs::is_directory(model, ec) ? fs::absolute(model) : fs::absolute(model).parent_path());
    for (const fs::path& folder : folders) {
        const fs::path file = folder / (name + ".safetensors");
        if (fs::is_regular_file(file, ec)) return file;
    }
    return {};
}

namespace {

void addLora(std::vector<DiffusionLoadOptions::Lora>& loras, const fs::path& file, double weight)
{
    const auto same = std::find_if(loras.begin(), loras.end(), [&](const auto& l) { return sameFile(l.path, file); });
    if (same != loras.end())
        same->strength = weight;  // the tag's weight, as in A1111
    else
        loras.push_back({file, weight});
}

std::string notFound(const char* where, const std::string& name)
{
    return std::string(where) + "'s <lora:" + name + "> was not found beside the listed LoRAs or the model (" + name +
           ".safetensors)";
}

}  // namespace

void resolvePromptLoras(std::string& prompt, const fs::path& model, DiffusionLoadOptions& load)
{
    const LoraTags tags = extractLoraTags(prompt);
    if (tags.loras.empty()) return;
    for (const auto& t : tags.loras) {
        const fs::path file = findLoraFile(t.name, model, load.loras);
        if (file.empty()) throw Error(notFound("the prompt", t.name));
        addLora(load.loras, file, t.weight);
    }
    prompt = tags.prompt;
}

void resolveLabLoras(LabOptions& options, const fs::path& model, DiffusionLoadOptions& load, LoraFiles& files)
{
    resolvePromptLoras(options.base, model, load);
    for (const std::string& chunk : options.chunks)
        for (const auto& t : extractLoraTags(chunk).loras) {
            const fs::path file = findLoraFile(t.name, model, load.loras);
            if (file.empty()) throw Error(notFound("the chunk", t.name));
            files[t.name] = file;
        }
    std::erase_if(load.loras, [&](const auto& l) {
        return std::any_of(files.begin(), files.end(), [&](const auto& f) { return sameFile(l.path, f.second); });
    });
}

DiffusionLoadOptions withLoraTags(DiffusionLoadOptions load, const std::vector<LoraTag>& tags, const LoraFiles& files)
{
    for (const auto& t : tags) {
        const auto file = files.find(t.name);
        if (file == files.end())
            throw Error("the LoRA chunk <lora:" + t.name +
                        "> names no file found beside the listed LoRAs or the model");
        addLora(load.loras, file->second, t.weight);
    }
    return load;
}

}  // namespace spyglass::core
