#include "image/single_file_pipeline.h"

#include "image/ldm_checkpoint.h"
#include "image/nn_layers.h"
#include "spyglass/error.h"
#include "spyglass/safetensors.h"

namespace spyglass::core {

namespace fs = std::filesystem;

namespace {

// SD 1.x's scheduler (runwayml/stable-diffusion-v1-5's scheduler_config.json).
const char* kSd1Scheduler = R"({"_class_name": "PNDMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
  "beta_start": 0.00085, "num_train_timesteps": 1000, "prediction_type": "epsilon", "set_alpha_to_one": false,
  "skip_prk_steps": true, "steps_offset": 1, "timestep_spacing": "leading", "trained_betas": null})";

// The keys no tensor shape gives, taken from a companion folder's config when it has them.
void takeUnknowable(nlohmann::json& config, const fs::path& companion, const std::vector<std::string>& keys)
{
    std::error_code ec;
    if (companion.empty() || !fs::is_regular_file(companion, ec)) return;
    const ConfigReader c(companion);
    for (const auto& key : keys)
        if (c.has(key)) config[key] = c.json()[key];
}

WeightStore storeOf(const LdmComponent& component, const std::shared_ptr<const SafetensorsFile>& file)
{
    WeightStore store(file->path().filename().string());
    for (const auto& [name, source] : component.keys) {
        const TensorView* view = file->find(source.key);
        if (!view) throw Error(file->path().string() + ": key '" + source.key + "' is missing");
        TensorView renamed = *view;
        if (source.squeeze) renamed.shape.resize(2);
        store.addView(name, std::move(renamed), file);
    }
    return store;
}

template <typename T>
std::unique_ptr<T> build(const nlohmann::json& config, const WeightStore& store, const fs::path& file,
                         const std::string& part, torch::Device device)
{
    const ConfigReader reader(config, fs::path(file.string() + " (" + part + ")"));
    try {
        return T::build(reader, Weights(store, device));
    } catch (const Error& error) {
        const std::string what = error.what();
        if (what.rfind(file.string(), 0) == 0) throw;
        throw Error(file.string() + " (" + part + "): " + what);
    }
}

LdmTensorShapes shapesOf(const SafetensorsFile& file)
{
    LdmTensorShapes out;
    for (const auto& view : file.tensors()) out.emplace_back(view.name, view.shape);
    return out;
}

}  // namespace

fs::path shippedClipTokenizer()
{
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    std::vector<fs::path> candidates;
    if (!ec) candidates.push_back(exe.parent_path() / "../share/spyglass/models/spyglass-shapes/tokenizer");
#ifdef SPYGLASS_SOURCE_DIR
    candidates.push_back(fs::path(SPYGLASS_SOURCE_DIR) / "resources/models/spyglass-shapes/tokenizer");
#endif
    for (const auto& c : candidates)
        if (fs::is_regular_file(c / "vocab.json", ec) && fs::is_regular_file(c / "merges.txt", ec))
            return c.lexically_normal();
    return {};
}

std::unique_ptr<VaeDecoder> loadVaeFile(const fs::path& path, torch::Device device, const fs::path& companionConfig)
{
    const auto file = SafetensorsFile::open(path);
    LdmComponent vae = mapVaeFile(shapesOf(*file), path.string());
    takeUnknowable(vae.config, companionConfig, {"scaling_factor"});
    return build<VaeDecoder>(vae.config, storeOf(vae, file), path, "VAE", device);
}

PipelineParts loadSingleFilePipeline(const fs::path& path, const DiffusionLoadOptions& options, torch::Device device,
                                     const StoreAdjust& unetAdjust, const StoreAdjust& textAdjust)
{
    const std::string name = path.string();
    const auto file = SafetensorsFile::open(path);
    const LdmCheckpoint ckpt = mapLdmCheckpoint(shapesOf(*file), name);
    const fs::path companion = options.configDir;
    std::error_code ec;
    if (!companion.empty() && !fs::is_directory(companion, ec))
        throw Error("'" + companion.string() + "': --config must be a folder (a diffusers pipeline or its parts)");

    PipelineParts parts;
    // Tokenizer: the companion's, else Spyglass's own CLIP BPE files.
    fs::path tokenizer = companion.empty() ? fs::path() : companion / "tokenizer";
    if (tokenizer.empty() || !fs::is_directory(tokenizer, ec)) tokenizer = shippedClipTokenizer();
    if (tokenizer.empty())
        throw Error(name + ": a single-file checkpoint carries no tokenizer and Spyglass's CLIP tokenizer files are "
                           "not installed (share/spyglass/models/spyglass-shapes/tokenizer); give --config DIR with a "
                           "tokenizer/ folder");
    parts.tokenizer = ClipTokenizer::load(tokenizer);

    nlohmann::json textConfig = ckpt.textEncoder.config;
    takeUnknowable(textConfig, companion / "text_encoder/config.json",
                   {"num_attention_heads", "hidden_act", "layer_norm_eps"});
    if (!textConfig.contains("num_attention_heads"))
        throw Error(name + ": the text encoder is " + std::to_string(textConfig["hidden_size"].get<int64_t>()) +
                    " wide, not a multiple of CLIP's 64-wide heads; give --config DIR whose text_encoder/config.json "
                    "says num_attention_heads");
    WeightStore textStore = storeOf(ckpt.textEncoder, file);
    if (textAdjust) textAdjust(textStore);
    parts.text = build<ClipTextEncoder>(textConfig, textStore, path, "text encoder", device);

    nlohmann::json unetConfig = ckpt.unet.config;
    takeUnknowable(unetConfig, companion / "unet/config.json",
                   {"attention_head_dim", "num_attention_heads", "sample_size", "upcast_attention"});
    WeightStore unetStore = storeOf(ckpt.unet, file);
    if (unetAdjust) unetAdjust(unetStore);
    parts.unet = build<UNetModel>(unetConfig, unetStore, path, "UNet", device);

    if (!options.vaePath.empty()) {
        parts.vae = loadVaeFile(options.vaePath, device, companion.empty() ? fs::path() : companion / "vae/config.json");
    } else if (!ckpt.vae.empty()) {
        nlohmann::json vaeConfig = ckpt.vae.config;
        takeUnknowable(vaeConfig, companion / "vae/config.json", {"scaling_factor"});
        parts.vae = build<VaeDecoder>(vaeConfig, storeOf(ckpt.vae, file), path, "VAE", device);
    } else {
        throw Error(name + ": the checkpoint has no VAE (no 'first_stage_model.' keys); give one with --vae F.safetensors");
    }

    const fs::path scheduler = companion.empty() ? fs::path() : companion / "scheduler/scheduler_config.json";
    nlohmann::json schedulerJson = nlohmann::json::parse(kSd1Scheduler);
    fs::path schedulerPath = name + " (SD 1.x scheduler)";
    if (!scheduler.empty() && fs::is_regular_file(scheduler, ec)) {
        schedulerJson = ConfigReader(scheduler).json();
        schedulerPath = scheduler;
    }
    if (!options.predictionType.empty()) schedulerJson["prediction_type"] = options.predictionType;
    parts.schedulerConfig = std::make_unique<ConfigReader>(std::move(schedulerJson), schedulerPath);
    return parts;
}

}  // namespace spyglass::core
