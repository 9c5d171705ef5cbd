#include "spyglass/diffusion.h"

#include "image/clip_text_encoder.h"
#include "image/clip_tokenizer.h"
#include "image/heatmap_recorder.h"
#include "image/heatmap_words.h"
#include "image/lora.h"
#include "image/scheduler.h"
#include "image/single_file_pipeline.h"
#include "image/unet_model.h"
#include "image/vae_decoder.h"
#include "io/json_file.h"
#include "models/torch_weights.h"
#include "spyglass/error.h"
#include "spyglass/prompt_weights.h"
#include "spyglass/runtime.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace spyglass::core {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kWindow = 77;  // CLIP positions per window
constexpr int64_t kWindowTokens = kWindow - 2;

// Each window: SOT, up to 75 tokens, EOT, padding to 77.
std::vector<int64_t> windowIds(const std::vector<int>& ids, int64_t windows, const ClipTokenizer& t)
{
    std::vector<int64_t> out;
    for (int64_t w = 0; w < windows; ++w) {
        std::vector<int64_t> one{t.startId()};
        for (int64_t i = w * kWindowTokens;
             i < std::min<int64_t>(static_cast<int64_t>(ids.size()), (w + 1) * kWindowTokens); ++i)
            one.push_back(ids[static_cast<size_t>(i)]);
        one.push_back(t.endId());
        one.resize(kWindow, t.padId());
        out.insert(out.end(), one.begin(), one.end());
    }
    return out;
}

// The prompt's ids with one weight each; with `parse`, emphasis pieces are tokenized one by one
// (as AUTOMATIC1111 does) and their cleaned texts joined with spaces for the offsets.
struct WeightedEncoding {
    ClipEncoding encoding;
    std::vector<float> weights;
};

WeightedEncoding encodeWeighted(const ClipTokenizer& tok, const std::string& prompt, bool parse)
{
    WeightedEncoding w;
    if (!parse) {
        w.encoding = tok.encode(prompt);
        w.weights.assign(w.encoding.ids.size(), 1.0F);
        return w;
    }
    for (const auto& piece : parsePromptWeights(prompt)) {
        const ClipEncoding e = tok.encode(piece.text);
        if (e.text.empty()) continue;
        if (!w.encoding.text.empty()) w.encoding.text += ' ';
        const size_t base = w.encoding.text.size();
        w.encoding.text += e.text;
        for (size_t i = 0; i < e.ids.size(); ++i) {
            w.encoding.ids.push_back(e.ids[i]);
            w.encoding.offsets.emplace_back(base + e.offsets[i].first, base + e.offsets[i].second);
            w.weights.push_back(static_cast<float>(piece.weight));
        }
    }
    return w;
}

// Per window: SOT, up to 75 weights, EOT, padding — 1 except for emphasised tokens.
std::vector<float> windowWeights(const std::vector<float>& weights, int64_t windows)
{
    std::vector<float> out(static_cast<size_t>(windows * kWindow), 1.0F);
    for (size_t i = 0; i < weights.size(); ++i) {
        const auto w = static_cast<int64_t>(i) / kWindowTokens;
        out[static_cast<size_t>(w * kWindow + 1 + static_cast<int64_t>(i) % kWindowTokens)] = weights[i];
    }
    return out;
}

std::vector<uint8_t> toRgb(const torch::Tensor& image)
{
    // round(clamp(x/2 + 0.5, 0, 1)·255), HWC
    const torch::Tensor u8 = (image[0] / 2 + 0.5)
                                 .clamp(0, 1)
                                 .mul(255)
                                 .round()
                                 .to(torch::kUInt8)
                                 .permute({1, 2, 0})
                                 .contiguous()
                                 .to(torch::kCPU);
    return {u8.data_ptr<uint8_t>(), u8.data_ptr<uint8_t>() + u8.numel()};
}

}  // namespace

class DiffusionModelImpl {
public:
    DiffusionInfo info;
    torch::Device device = torch::kCPU;
    std::unique_ptr<ClipTokenizer> tokenizer;
    std::unique_ptr<ClipTextEncoder> text;
    // SDXL: the second tokenizer (its own padding) and text encoder (with projection).
    std::unique_ptr<ClipTokenizer> tokenizer2;
    std::unique_ptr<ClipTextEncoder> text2;
    bool forceZerosForEmptyPrompt = false;
    std::unique_ptr<UNetModel> unet;
    std::unique_ptr<VaeDecoder> vae;
    std::unique_ptr<ConfigReader> schedulerConfig;
};

DiffusionModel::DiffusionModel(std::unique_ptr<DiffusionModelImpl> impl) : m_impl(std::move(impl)) {}
DiffusionModel::~DiffusionModel() = default;
const DiffusionInfo& DiffusionModel::info() const
{
    return m_impl->info;
}

std::unique_ptr<DiffusionModel> DiffusionModel::load(const fs::path& given, const std::string& device,
                                                     const DiffusionLoadOptions& options)
{
    const fs::path dir = resolveModelPath(given);
    std::error_code ec;
    if (!fs::exists(dir, ec)) throw Error("'" + dir.string() + "': does not exist");
    if (!options.predictionType.empty() && options.predictionType != "epsilon" &&
        options.predictionType != "v_prediction")
        throw Error("prediction type '" + options.predictionType + "' is not supported (epsilon, v_prediction)");
    auto impl = std::make_unique<DiffusionModelImpl>();
    // LoRAs: opened first (a bad file fails before any weight is read), merged as the UNet and the
    // text encoder load, then every module must have found its layer.
    std::vector<std::shared_ptr<const Lora>> loras;
    for (const auto& l : options.loras) loras.push_back(Lora::open(l.path, l.strength));
    std::vector<std::set<std::string>> used(loras.size());
    const std::function<StoreAdjust(const std::string&)> adjustFor = [&](const std::string& component) -> StoreAdjust {
        if (loras.empty()) return {};
        return [&loras, &used, component](WeightStore& store) {
            for (size_t i = 0; i < loras.size(); ++i) loras[i]->applyTo(store, component, used[i]);
        };
    };
    if (!fs::is_directory(dir, ec)) {
        if (isPickleFileName(dir))
            throw Error("'" + dir.string() +
                        "': a pickle checkpoint; Spyglass never unpickles (it can execute code). Convert it to "
                        ".safetensors (e.g. with safetensors.torch.save_file) and open that");
        if (dir.extension() != ".safetensors")
            throw Error("'" + dir.string() +
                        "': is not a folder or a .safetensors checkpoint (a diffusers pipeline is a folder with "
                        "model_index.json)");
        checkDevice(device);
        impl->device = torch::Device(device);
        PipelineParts parts = loadSingleFilePipeline(dir, options, impl->device, adjustFor);
        impl->tokenizer = std::move(parts.tokenizer);
        impl->text = std::move(parts.text);
        impl->tokenizer2 = std::move(parts.tokenizer2);
        impl->text2 = std::move(parts.text2);
        impl->forceZerosForEmptyPrompt = parts.forceZerosForEmptyPrompt;
        impl->unet = std::move(parts.unet);
        impl->vae = std::move(parts.vae);
        impl->schedulerConfig = std::move(parts.schedulerConfig);
    } else {
        const fs::path index = dir / "model_index.json";
        if (!fs::is_regular_file(index, ec)) {
            if (fs::is_empty(dir, ec))
                throw Error("'" + dir.string() +
                            "': the folder is empty (expected a diffusers pipeline: model_index.json, unet/, vae/, "
                            "text_encoder/, tokenizer/, scheduler/)");
            throw Error("'" + dir.string() + "': no model_index.json (not a diffusers pipeline folder)");
        }
        const ConfigReader pipeline(index);
        const std::string cls = pipeline.string("_class_name", "");
        const bool xl = cls == "StableDiffusionXLPipeline";
        if (cls != "StableDiffusionPipeline" && cls != "StableDiffusionImg2ImgPipeline" && !xl)
            pipeline.fail("_class_name '" + cls +
                          "' is not a Stable Diffusion 1.x/2.x or SDXL pipeline (StableDiffusionPipeline, "
                          "StableDiffusionXLPipeline)");
        std::vector<std::string> parts{"text_encoder", "tokenizer", "unet", "vae", "scheduler"};
        if (xl) parts.insert(parts.end(), {"text_encoder_2", "tokenizer_2"});
        for (const std::string& part : parts)
            if (!fs::is_directory(dir / part, ec))
                throw Error("'" + dir.string() + "': the " + part + "/ folder is missing");
        checkDevice(device);
        impl->device = torch::Device(device);
        impl->tokenizer = ClipTokenizer::load(dir / "tokenizer");
        impl->text = ClipTextEncoder::load(dir / "text_encoder", impl->device, adjustFor("text_encoder"));
        if (xl) {
            impl->tokenizer2 = ClipTokenizer::load(dir / "tokenizer_2");
            impl->text2 = ClipTextEncoder::load(dir / "text_encoder_2", impl->device, adjustFor("text_encoder_2"));
            if (!impl->text2->hasProjection())
                throw Error((dir / "text_encoder_2").string() +
                            ": has no text_projection.weight (SDXL's second encoder is CLIPTextModelWithProjection)");
            impl->forceZerosForEmptyPrompt = pipeline.boolean("force_zeros_for_empty_prompt", true);
        }
        impl->unet = UNetModel::load(dir / "unet", impl->device, adjustFor("unet"));
        impl->vae = options.vaePath.empty() ? VaeDecoder::load(dir / "vae", impl->device) : nullptr;
        const fs::path schedulerPath = dir / "scheduler" / "scheduler_config.json";
        if (!fs::is_regular_file(schedulerPath, ec)) throw Error(schedulerPath.string() + ": missing");
        nlohmann::json scheduler = ConfigReader(schedulerPath).json();
        if (!options.predictionType.empty()) scheduler["prediction_type"] = options.predictionType;
        impl->schedulerConfig = std::make_unique<ConfigReader>(std::move(scheduler), schedulerPath);
        if (!options.vaePath.empty()) impl->vae = loadVaeFile(options.vaePath, impl->device, dir / "vae/config.json");
    }
    for (size_t i = 0; i < loras.size(); ++i) loras[i]->checkAllUsed(used[i]);
    (void)Scheduler::fromConfig(*impl->schedulerConfig);  // fail at load, not at Run
    const int64_t textWidth = impl->text->config().width + (impl->text2 ? impl->text2->config().width : 0);
    if (impl->unet->contextWidth() != textWidth)
        throw Error("'" + dir.string() + "': the UNet's cross_attention_dim (" +
                    std::to_string(impl->unet->contextWidth()) + ") differs from the text encoder" +
                    (impl->text2 ? "s' hidden sizes together (" : "'s hidden_size (") + std::to_string(textWidth) +
                    ")");
    if ((impl->unet->pooledWidth() > 0) != static_cast<bool>(impl->text2))
        throw Error("'" + dir.string() + "': " +
                    (impl->text2
                         ? std::string("the UNet has no text_time conditioning for SDXL's pooled embeddings")
                         : std::string("the UNet is SDXL's (text_time) but the pipeline has one text encoder")));
    if (impl->unet->inChannels() != impl->vae->latentChannels())
        throw Error("'" + dir.string() + "': the UNet's in_channels (" + std::to_string(impl->unet->inChannels()) +
                    ") differs from the VAE's latent_channels (" + std::to_string(impl->vae->latentChannels()) + ")");
    DiffusionInfo& i = impl->info;
    i.path = dir;
    i.scheduler = impl->schedulerConfig->string("_class_name", "");
    i.textWidth = static_cast<int>(textWidth);
    i.sdxl = static_cast<bool>(impl->text2);
    i.textLayers = static_cast<int>(impl->text->config().layers);
    i.latentChannels = static_cast<int>(impl->unet->inChannels());
    i.sampleSize = static_cast<int>(impl->unet->sampleSize());
    i.vaeScaleFactor = static_cast<int>(impl->vae->scaleFactor());
    i.crossAttentionLayers = static_cast<int>(impl->unet->crossAttentionLayers().size());
    i.device = device;
    return std::unique_ptr<DiffusionModel>(new DiffusionModel(std::move(impl)));
}

std::vector<int> DiffusionModel::tokenize(const std::string& text) const
{
    return m_impl->tokenizer->encode(text).ids;
}

DiffusionResult DiffusionModel::generate(const DiffusionOptions& o, const ProgressCallback& progress,
                                         const PreviewCallback& preview)
{
    DiffusionModelImpl& m = *m_impl;
    const int scale = m.info.vaeScaleFactor;
    const int width = o.width > 0 ? o.width : m.info.sampleSize * scale;
    const int height = o.height > 0 ? o.height : m.info.sampleSize * scale;
    if (width % 8 != 0 || height % 8 != 0 || width % scale != 0 || height % scale != 0 || width < 8 || height < 8)
        throw OptionError("size", std::to_string(width) + "x" + std::to_string(height) +
                                      ": width and height must be positive multiples of 8");
    if (width > 4096 || height > 4096) throw OptionError("size", "at most 4096 pixels a side");
    if (o.steps < 1 || o.steps > 1000) throw OptionError("steps", "must be between 1 and 1000");
    if (!std::isfinite(o.guidance) || o.guidance < 0) throw OptionError("guidance", "must be a number ≥ 0");
    if (o.clipSkip < 1 || o.clipSkip > m.text->config().layers)
        throw OptionError("clipSkip", "must be between 1 and the text encoder's " +
                                          std::to_string(m.text->config().layers) + " layers");
    const int64_t lh = height / scale, lw = width / scale;
    const int64_t channels = m.info.latentChannels;

    std::unique_ptr<Scheduler> scheduler;
    if (!o.schedulerConfig.empty()) {
        scheduler = Scheduler::fromConfig(ConfigReader(o.schedulerConfig), o.timestepSpacing);
    } else if (!o.scheduler.empty()) {
        scheduler = Scheduler::create(o.scheduler, *m.schedulerConfig, o.timestepSpacing);
    } else {
        scheduler = Scheduler::fromConfig(*m.schedulerConfig, o.timestepSpacing);
    }
    scheduler->setTimesteps(o.steps);

    c10::InferenceMode guard;
    at::Generator generator = at::detail::createCPUGenerator(o.seed);
    torch::Tensor noise;
    if (o.initLatents) {
        const HostTensor& t = *o.initLatents;
        if (t.shape != std::vector<int64_t>{1, channels, lh, lw})
            throw OptionError("initLatents", "shape " + shapeText(t.shape) + " does not match " +
                                                 shapeText({1, channels, lh, lw}) + " for " + std::to_string(width) +
                                                 "x" + std::to_string(height));
        noise = torch::tensor(t.values, torch::kFloat32).view(t.shape);
    } else {
        noise = at::randn({1, channels, lh, lw}, generator, torch::TensorOptions().dtype(torch::kFloat32));
    }

    // Prompt and negative prompt in 75-token windows, the same number of each.
    const ClipTokenizer& tok = *m.tokenizer;
    const WeightedEncoding weightedPrompt = encodeWeighted(tok, o.prompt, o.promptWeights);
    const WeightedEncoding weightedNegative = encodeWeighted(tok, o.negativePrompt, o.promptWeights);
    const ClipEncoding& prompt = weightedPrompt.encoding;
    const ClipEncoding& negative = weightedNegative.encoding;
    auto windowsFor = [](size_t n) {
        return std::max<int64_t>(1, (static_cast<int64_t>(n) + kWindowTokens - 1) / kWindowTokens);
    };
    const int64_t windows = std::max(windowsFor(prompt.ids.size()), windowsFor(negative.ids.size()));
    const std::vector<int64_t> condIds = windowIds(prompt.ids, windows, tok);
    auto weighted = [&](torch::Tensor z, const std::vector<float>& weights) {
        if (std::any_of(weights.begin(), weights.end(), [](float w) { return w != 1.0F; })) {
            // AUTOMATIC1111: scale the rows, then restore each window's mean (per text encoder).
            const torch::Tensor original = z.mean({1, 2}, true);
            z = z * torch::tensor(weights).view({windows, kWindow, 1}).to(m.device);
            z = z * (original / z.mean({1, 2}, true));
        }
        return z;
    };
    // SDXL: both encoders' penultimate hidden states (no final norm) side by side, and the second's
    // pooled projection of the first window.
    torch::Tensor condPooled, uncondPooled;
    auto encode = [&](const ClipEncoding& e, const std::vector<float>& weights, torch::Tensor* pooled) {
        const std::vector<int64_t> ids = windowIds(e.ids, windows, tok);
        const torch::Tensor t = torch::tensor(ids, torch::kInt64).view({windows, kWindow}).to(m.device);
        if (!m.text2)
            return weighted(m.text->forward(t, nullptr, o.clipSkip - 1), weights).reshape({1, windows * kWindow, -1});
        const torch::Tensor t2 = torch::tensor(windowIds(e.ids, windows, *m.tokenizer2), torch::kInt64)
                                     .view({windows, kWindow})
                                     .to(m.device);
        std::vector<torch::Tensor> h1, h2;
        (void)m.text->forward(t, &h1);
        const torch::Tensor last2 = m.text2->forward(t2, &h2);
        const auto pick = [&](const std::vector<torch::Tensor>& h) {
            return h[h.size() - 2 - static_cast<size_t>(o.clipSkip - 1)];
        };
        *pooled = m.text2->pooled(last2.slice(0, 0, 1), t2.slice(0, 0, 1));
        return torch::cat({weighted(pick(h1), weights), weighted(pick(h2), weights)}, -1)
            .reshape({1, windows * kWindow, -1});
    };
    const std::vector<float> condWeights = windowWeights(weightedPrompt.weights, windows);
    const torch::Tensor condEmbeds = encode(prompt, condWeights, &condPooled);
    // LCM-distilled UNets take the guidance as an embedding and run without classifier-free guidance
    // (diffusers' LatentConsistencyModelPipeline).
    const int64_t guidanceWidth = m.unet->timeConditionWidth();
    const bool guided = guidanceWidth == 0 && o.guidance > 1.0;
    torch::Tensor uncondEmbeds;
    if (guided) {
        if (m.text2 && m.forceZerosForEmptyPrompt && negative.ids.empty()) {
            // SDXL without a negative prompt: zero conditioning (diffusers' force_zeros_for_empty_prompt).
            uncondEmbeds = torch::zeros_like(condEmbeds);
            uncondPooled = torch::zeros_like(condPooled);
        } else {
            uncondEmbeds = encode(negative, windowWeights(weightedNegative.weights, windows), &uncondPooled);
        }
    }
    const torch::Tensor context = guided ? torch::cat({uncondEmbeds, condEmbeds}, 0) : condEmbeds;
    AddedConditioning added;
    if (m.text2) {
        // add_time_ids: original size, crop top-left, target size (= the image's).
        const int origW = o.originalWidth > 0 ? o.originalWidth : width;
        const int origH = o.originalHeight > 0 ? o.originalHeight : height;
        const torch::Tensor ids =
            torch::tensor({static_cast<float>(origH), static_cast<float>(origW), static_cast<float>(o.cropTop),
                           static_cast<float>(o.cropLeft), static_cast<float>(height), static_cast<float>(width)})
                .view({1, 6})
                .to(m.device);
        added.textEmbeds = guided ? torch::cat({uncondPooled, condPooled}, 0) : condPooled;
        added.timeIds = guided ? torch::cat({ids, ids}, 0) : ids;
    }

    if (guidanceWidth > 0) added.timeCondition = guidanceScaleEmbedding(o.guidance - 1.0, guidanceWidth).to(m.device);

    DiffusionResult r;
    r.width = width;
    r.height = height;
    r.tokenIds = condIds;
    r.tokenWeights = condWeights;
    r.promptEmbeds = toHost(condEmbeds);
    if (condPooled.defined()) r.pooledPromptEmbeds = toHost(condPooled);
    r.scheduler = scheduler->className();
    r.schedulerName = scheduler->shortName();
    r.timesteps = scheduler->timesteps();

    // Heatmap rows: per window SOT, its tokens, EOT.
    std::vector<int64_t> keys;
    std::vector<int> tokenRow(prompt.ids.size());
    Heatmaps& hm = r.heatmaps;
    for (int64_t w = 0; w < windows; ++w) {
        const int64_t first = w * kWindowTokens;
        const int64_t last = std::min<int64_t>(static_cast<int64_t>(prompt.ids.size()), first + kWindowTokens);
        keys.push_back(w * kWindow);
        hm.rowTokens.push_back(tok.tokenText(tok.startId()));
        hm.rowIds.push_back(tok.startId());
        for (int64_t i = first; i < last; ++i) {
            tokenRow[static_cast<size_t>(i)] = static_cast<int>(keys.size());
            keys.push_back(w * kWindow + 1 + (i - first));
            hm.rowTokens.push_back(tok.tokenText(prompt.ids[static_cast<size_t>(i)]));
            hm.rowIds.push_back(prompt.ids[static_cast<size_t>(i)]);
        }
        keys.push_back(w * kWindow + 1 + (last - first));
        hm.rowTokens.push_back(tok.tokenText(tok.endId()));
        hm.rowIds.push_back(tok.endId());
    }
    std::optional<HeatmapRecorder> recorder;
    if (o.heatmaps) recorder.emplace(m.unet->crossAttentionLayers(), keys, guided);
    const CrossAttentionSink sink = recorder ? recorder->sink() : CrossAttentionSink{};

    const auto& timesteps = scheduler->timesteps();
    const int calls = static_cast<int>(timesteps.size());
    std::vector<torch::Tensor> trajectory;
    torch::Tensor x = (noise * scheduler->initNoiseSigma()).to(m.device);
    trajectory.push_back(x.to(torch::kCPU));
    if (progress && !progress({"denoising", 0, calls})) throw Cancelled();
    for (int k = 0; k < calls; ++k) {
        const auto call = static_cast<size_t>(k);
        const torch::Tensor input = scheduler->scaleModelInput(guided ? torch::cat({x, x}, 0) : x, call);
        const torch::Tensor out = m.unet->forward(input, timesteps[call], context, sink, added);
        if (recorder) recorder->endCall();
        torch::Tensor eps;
        if (guided) {
            const auto halves = out.chunk(2, 0);
            eps = halves[0] + o.guidance * (halves[1] - halves[0]);
        } else {
            eps = out;
        }
        x = scheduler->step(eps, call, x, generator);
        trajectory.push_back(x.to(torch::kCPU));
        if (preview && o.previewEvery > 0 && (k + 1) % o.previewEvery == 0 && k + 1 < calls)
            preview(k + 1, calls, width, height, toRgb(m.vae->decode(x / m.vae->scalingFactor())));
        if (progress && !progress({"denoising", k + 1, calls})) throw Cancelled();
    }
    if (progress && !progress({"decoding", 0, 1})) throw Cancelled();
    const torch::Tensor image = m.vae->decode(x / m.vae->scalingFactor());
    r.image = toHost(image);
    r.rgb = toRgb(image);
    r.latents = toHost(torch::cat(trajectory, 0));

    if (recorder) {
        if (progress && !progress({"heatmaps", 0, 1})) throw Cancelled();
        recorder->finish(hm);
        hm.gridHeight = static_cast<int>(lh);
        hm.gridWidth = static_cast<int>(lw);
        hm.tokenMaps = aggregateHeatmaps(hm, {});
        // Words: the cleaned prompt split on white space, punctuation its own word, letters and
        // digits together; each distinct word once, its rows the tokens overlapping any occurrence.
        std::vector<std::string> order;
        std::map<std::string, std::set<int>> rows;
        for (const auto& [begin, end] : heatmapWordSpans(prompt.text)) {
            const std::string word = prompt.text.substr(begin, end - begin);
            if (!rows.count(word)) order.push_back(word);
            auto& set = rows[word];
            for (size_t i = 0; i < prompt.ids.size(); ++i)
                if (prompt.offsets[i].first < end && prompt.offsets[i].second > begin) set.insert(tokenRow[i]);
        }
        for (const auto& w : order)
            if (!rows[w].empty()) hm.words.push_back({w, std::vector<int>(rows[w].begin(), rows[w].end())});
        hm.wordMaps = wordMapsFrom(hm, hm.tokenMaps);
        hm.wordMapsImage = resizeMaps(hm.wordMaps, height, width, true);
    }
    return r;
}

}  // namespace spyglass::core
