#include "image/single_file_pipeline.h"

#include "image/ldm_checkpoint.h"
#include "image/nn_layers.h"
#include "models/torch_weights.h"
#include "spyglass/error.h"
#include "spyglass/safetensors.h"

namespace spyglass::core {

namespace fs = std::filesystem;

namespace {

// SDXL base's scheduler (stabilityai/stable-diffusion-xl-base-1.0's scheduler_config.json).
const char* kSdxlScheduler = R"({"_class_name": "EulerDiscreteScheduler", "beta_end": 0.012,
  "beta_schedule": "scaled_linear", "beta_start": 0.00085, "interpolation_type": "linear", "num_train_timesteps": 1000,
  "prediction_type": "epsilon", "steps_offset": 1, "timestep_spacing": "leading", "trained_betas": null,
  "use_karras_sigmas": false})";

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
        if (source.slice >= 0) {
            // One of three stacked row blocks: contiguous bytes of the same file.
            const size_t third = renamed.byteSize / 3;
            renamed.shape[0] /= 3;
            renamed.data += third * static_cast<size_t>(source.slice);
            renamed.byteSize = third;
        }
        if (source.transpose) {
            // [H, P] stored, [P, H] wanted: decoded, then transposed into the float32 tensor.
            const std::vector<int64_t> shape{renamed.shape[1], renamed.shape[0]};
            WeightStore::Entry stored;
            stored.ownedView = std::make_shared<const TensorView>(renamed);
            stored.view = stored.ownedView.get();
            stored.file = file;
            const std::string origin = file->path().filename().string();
            store.addComputed(name, shape, origin, [stored, shape, origin, key = source.key](float* values) {
                std::vector<float> raw(static_cast<size_t>(shape[0] * shape[1]));
                const bool finite = fillFloat32(stored, key, origin, raw.data());
                for (int64_t r = 0; r < shape[1]; ++r)
                    for (int64_t c = 0; c < shape[0]; ++c)
                        values[c * shape[1] + r] = raw[static_cast<size_t>(r * shape[0] + c)];
                return finite;
            });
            continue;
        }
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
                                     const std::function<StoreAdjust(const std::string&)>& adjust)
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
    const bool ownTokenizer = !tokenizer.empty() && fs::is_directory(tokenizer, ec);
    if (!ownTokenizer) tokenizer = shippedClipTokenizer();
    if (tokenizer.empty())
        throw Error(name +
                    ": a single-file checkpoint carries no tokenizer and Spyglass's CLIP tokenizer files are "
                    "not installed (share/spyglass/models/spyglass-shapes/tokenizer); give --config DIR with a "
                    "tokenizer/ folder");
    const bool sd2 = ckpt.family == "sd2";
    // SD 2.x's tokenizer pads with "!" (its tokenizer_config.json), SD 1.x's with <|endoftext|>.
    parts.tokenizer = sd2 && !ownTokenizer ? ClipTokenizer::load(tokenizer, "!") : ClipTokenizer::load(tokenizer);

    // A text encoder's config: what the keys tell, the rest from the companion folder; the head
    // count must be known (inferred for CLIP's 64-wide heads, else given by --config).
    auto textConfigOf = [&](const LdmComponent& component, const std::string& folder, const std::string& label) {
        nlohmann::json config = component.config;
        takeUnknowable(config, companion / (folder + "/config.json"),
                       {"num_attention_heads", "hidden_act", "layer_norm_eps"});
        if (!config.contains("num_attention_heads"))
            throw Error(name + ": the " + label + " is " + std::to_string(config["hidden_size"].get<int64_t>()) +
                        " wide, not a multiple of CLIP's 64-wide heads; give --config DIR whose " + folder +
                        "/config.json says num_attention_heads");
        return config;
    };
    const nlohmann::json textConfig = textConfigOf(ckpt.textEncoder, "text_encoder", "text encoder");
    auto adjusted = [&](const LdmComponent& component, const std::string& part) {
        WeightStore store = storeOf(component, file);
        if (adjust)
            if (const StoreAdjust a = adjust(part)) a(store);
        return store;
    };
    parts.text =
        build<ClipTextEncoder>(textConfig, adjusted(ckpt.textEncoder, "text_encoder"), path, "text encoder", device);
    const bool xl = ckpt.family == "sdxl";
    if (xl) {
        const nlohmann::json config2 = textConfigOf(ckpt.textEncoder2, "text_encoder_2", "second text encoder");
        parts.text2 = build<ClipTextEncoder>(config2, adjusted(ckpt.textEncoder2, "text_encoder_2"), path,
                                             "text encoder 2", device);
        // SDXL's tokenizer_2 is CLIP's BPE padding with "!".
        fs::path tokenizer2 = companion.empty() ? fs::path() : companion / "tokenizer_2";
        parts.tokenizer2 =
            fs::is_directory(tokenizer2, ec) ? ClipTokenizer::load(tokenizer2) : ClipTokenizer::load(tokenizer, "!");
        parts.forceZerosForEmptyPrompt = true;
    }

    nlohmann::json unetConfig = ckpt.unet.config;
    takeUnknowable(unetConfig, companion / "unet/config.json",
                   {"attention_head_dim", "num_attention_heads", "sample_size", "upcast_attention"});
    parts.unet = build<UNetModel>(unetConfig, adjusted(ckpt.unet, "unet"), path, "UNet", device);

    if (!options.vaePath.empty()) {
        parts.vae =
            loadVaeFile(options.vaePath, device, companion.empty() ? fs::path() : companion / "vae/config.json");
    } else if (!ckpt.vae.empty()) {
        nlohmann::json vaeConfig = ckpt.vae.config;
        takeUnknowable(vaeConfig, companion / "vae/config.json", {"scaling_factor"});
        parts.vae = build<VaeDecoder>(vaeConfig, storeOf(ckpt.vae, file), path, "VAE", device);
    } else {
        throw Error(name +
                    ": the checkpoint has no VAE (no 'first_stage_model.' keys); give one with --vae F.safetensors");
    }

    const fs::path scheduler = companion.empty() ? fs::path() : companion / "scheduler/scheduler_config.json";
    nlohmann::json schedulerJson = nlohmann::json::parse(xl ? kSdxlScheduler : kSd1Scheduler);
    fs::path schedulerPath = name + (xl ? " (SDXL scheduler)" : sd2 ? " (SD 2.x scheduler)" : " (SD 1.x scheduler)");
    // SD 2.x: the same betas as SD 1.x; v-prediction (the 768-pixel models) as diffusers 0.21.2 assumes
    // for a checkpoint that does not say it is the 512-pixel base (--prediction-type epsilon for it).
    if (sd2) schedulerJson["prediction_type"] = "v_prediction";
    if (!scheduler.empty() && fs::is_regular_file(scheduler, ec)) {
        schedulerJson = ConfigReader(scheduler).json();
        schedulerPath = scheduler;
    }
    if (!options.predictionType.empty()) schedulerJson["prediction_type"] = options.predictionType;
    parts.schedulerConfig = std::make_unique<ConfigReader>(std::move(schedulerJson), schedulerPath);
    return parts;
}

}  // namespace spyglass::core
