#include "spyglass/image_trainer.h"

#include "image/clip_text_encoder.h"
#include "image/clip_tokenizer.h"
#include "image/unet_model.h"
#include "image/vae_decoder.h"
#include "io/atomic_file.h"
#include "models/torch_weights.h"
#include "spyglass/error.h"
#include "spyglass/safetensors.h"
#include "spyglass/shape_scenes.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

namespace spyglass::core {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json textConfig(const ImageTrainConfig& c, int vocab)
{
    return {{"architectures", {"CLIPTextModel"}},
            {"model_type", "clip_text_model"},
            {"hidden_size", c.textWidth},
            {"intermediate_size", 4 * c.textWidth},
            {"num_attention_heads", c.textHeads},
            {"num_hidden_layers", c.textLayers},
            {"max_position_embeddings", 77},
            {"vocab_size", vocab},
            {"hidden_act", "quick_gelu"},
            {"layer_norm_eps", 1e-5},
            {"bos_token_id", 0},
            {"eos_token_id", 2},
            {"pad_token_id", 1},
            {"projection_dim", c.textWidth},
            {"torch_dtype", "float32"}};
}

json unetConfig(const ImageTrainConfig& c)
{
    const size_t n = c.unetChannels.size();
    return {{"_class_name", "UNet2DConditionModel"},
            {"_diffusers_version", "0.21.2"},
            {"in_channels", 3},
            {"out_channels", 3},
            {"sample_size", c.imageSize / 2},
            {"block_out_channels", c.unetChannels},
            {"layers_per_block", 1},
            {"down_block_types", std::vector<std::string>(n, "CrossAttnDownBlock2D")},
            {"up_block_types", std::vector<std::string>(n, "CrossAttnUpBlock2D")},
            {"mid_block_type", "UNetMidBlock2DCrossAttn"},
            {"attention_head_dim", c.unetHeads},
            {"cross_attention_dim", c.textWidth},
            {"norm_num_groups", 16},
            {"norm_eps", 1e-5},
            {"act_fn", "silu"},
            {"flip_sin_to_cos", true},
            {"freq_shift", 0},
            {"downsample_padding", 1},
            {"use_linear_projection", false}};
}

json vaeConfig(double scaling)
{
    return {{"_class_name", "AutoencoderKL"},
            {"_diffusers_version", "0.21.2"},
            {"in_channels", 3},
            {"out_channels", 3},
            {"latent_channels", 3},
            {"block_out_channels", {32, 32}},
            {"layers_per_block", 1},
            {"norm_num_groups", 8},
            {"down_block_types", {"DownEncoderBlock2D", "DownEncoderBlock2D"}},
            {"up_block_types", {"UpDecoderBlock2D", "UpDecoderBlock2D"}},
            {"act_fn", "silu"},
            {"sample_size", 32},
            {"scaling_factor", scaling},
            {"_spyglass_encoder", "fixed: latents = avg_pool2d(image in [-1, 1], 2); no encoder weights are stored"}};
}

json schedulerConfig()
{
    return {{"_class_name", "DDIMScheduler"},
            {"_diffusers_version", "0.21.2"},
            {"num_train_timesteps", 1000},
            {"beta_start", 0.00085},
            {"beta_end", 0.012},
            {"beta_schedule", "scaled_linear"},
            {"clip_sample", false},
            {"set_alpha_to_one", false},
            {"steps_offset", 1},
            {"prediction_type", "epsilon"},
            {"timestep_spacing", "leading"}};
}

void writeConfigJson(const fs::path& path, const json& j)
{
    writeFileAtomically(path, j.dump(2) + "\n");
}

void saveComponentWeights(const std::vector<std::pair<std::string, torch::Tensor>>& tensors, const std::string& prefix,
                          const fs::path& path, bool half)
{
    SafetensorsWriter w;
    for (const auto& [name, t] : tensors)
        if (name.rfind(prefix, 0) == 0)
            w.addFloat(name.substr(prefix.size()), toHost(t), half ? DType::F16 : DType::F32);
    w.setMetadata("format", "pt");
    w.write(path);
}

// [B, 3, S, S] in [−1, 1] from scenes.
torch::Tensor imageBatch(const std::vector<Scene>& scenes, int size)
{
    std::vector<float> values;
    values.reserve(scenes.size() * static_cast<size_t>(size * size * 3));
    for (const auto& s : scenes)
        for (uint8_t v : s.rgb) values.push_back(v / 127.5F - 1.0F);
    return torch::tensor(values)
        .view({static_cast<int64_t>(scenes.size()), size, size, 3})
        .permute({0, 3, 1, 2})
        .contiguous();
}

}  // namespace

ImageTrainResult trainImageModel(const ImageTrainConfig& c, const fs::path& outDir, const ProgressCallback& progress)
{
    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    if (c.imageSize % 4 != 0 || c.imageSize < 16) throw Error("image size must be a multiple of 4, at least 16");
    const auto tokenizer = ClipTokenizer::load(c.tokenizer);
    torch::manual_seed(c.seed);
    SceneGenerator scenes(c.seed, c.imageSize);
    const torch::Device device(torch::kCPU);

    // Models with fresh parameters, or (resume) the weights of an earlier run made trainable.
    const int vocab = tokenizer->vocabSize();
    const bool resume = !c.resumeFrom.empty();
    std::optional<WeightStore> textStore, unetStore, vaeStore;
    if (resume) {
        textStore = WeightStore::openFolder(c.resumeFrom / "text_encoder");
        unetStore = WeightStore::openFolder(c.resumeFrom / "unet");
        vaeStore = WeightStore::openFolder(c.resumeFrom / "vae");
    }
    auto params = [&] {
        auto set = std::make_shared<ParameterSet>();
        set->create = !resume;
        return set;
    };
    auto textParams = params(), unetParams = params(), vaeParams = params();
    auto text = ClipTextEncoder::build(ConfigReader(textConfig(c, vocab), "text_encoder/config.json"),
                                       Weights(resume ? &*textStore : nullptr, textParams, device));
    auto unet = UNetModel::build(ConfigReader(unetConfig(c), "unet/config.json"),
                                 Weights(resume ? &*unetStore : nullptr, unetParams, device));

    // Latent scale: 1 / std of the pooled images (kept when resuming).
    double scaling = 1.0;
    if (resume) {
        scaling = ConfigReader(c.resumeFrom / "vae/config.json").number("scaling_factor", 1.0);
    } else {
        std::vector<Scene> batch;
        for (int i = 0; i < 256; ++i) batch.push_back(scenes.next());
        const torch::Tensor pooled = torch::avg_pool2d(imageBatch(batch, c.imageSize), 2);
        scaling = std::round(10000.0 / pooled.std().item<double>()) / 10000.0;
    }
    auto vae = VaeDecoder::build(ConfigReader(vaeConfig(scaling), "vae/config.json"),
                                 Weights(resume ? &*vaeStore : nullptr, vaeParams, device));

    std::ostringstream log;
    log << "stage\tstep\tloss\tlearning_rate\tseconds\n";
    fs::create_directories(outDir);

    // Stage 1: the VAE decoder learns pooled image → image.
    {
        std::vector<torch::Tensor> params;
        for (auto& [name, t] : vaeParams->tensors) params.push_back(t);
        torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(1e-3).weight_decay(0.0));
        double window = 0;
        for (int step = 1; step <= c.vaeSteps; ++step) {
            std::vector<Scene> batch;
            for (int i = 0; i < c.batchSize; ++i) batch.push_back(scenes.next());
            const torch::Tensor images = imageBatch(batch, c.imageSize);
            const torch::Tensor loss = torch::mse_loss(vae->decode(torch::avg_pool2d(images, 2)), images);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            window += loss.item<double>();
            if (step % c.logEvery == 0) {
                log << "vae\t" << step << '\t' << window / c.logEvery << "\t0.001\t" << elapsed() << '\n';
                window = 0;
            }
            if (progress && !progress({"training the VAE decoder", step, c.vaeSteps})) throw Cancelled();
        }
    }

    // Stage 2: text encoder + UNet, DDPM ε-prediction with the scheduler's β schedule.
    const torch::Tensor betas = torch::linspace(std::sqrt(0.00085), std::sqrt(0.012), 1000, torch::kFloat32).pow(2);
    const torch::Tensor alphasCumprod = torch::cumprod(1.0 - betas, 0);
    std::vector<torch::Tensor> decay, noDecay;
    std::vector<std::pair<std::string, torch::Tensor>> trained;
    for (auto& p : textParams->tensors) trained.emplace_back("text/" + p.first, p.second);
    for (auto& p : unetParams->tensors) trained.emplace_back("unet/" + p.first, p.second);
    for (auto& [name, t] : trained)
        (t.dim() >= 2 && name.find("embedding") == std::string::npos ? decay : noDecay).push_back(t);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(c.learningRate).weight_decay(0.01)));
    groups.emplace_back(noDecay, std::make_unique<torch::optim::AdamWOptions>(
                                     torch::optim::AdamWOptions(c.learningRate).weight_decay(0.0)));
    torch::optim::AdamW optimizer(groups);
    std::vector<torch::Tensor> ema;
    for (auto& [name, t] : trained) ema.push_back(t.detach().clone());
    std::mt19937_64 rng(c.seed + 1);
    std::uniform_real_distribution<double> unit(0, 1);

    auto save = [&](int step) {
        // EMA weights into the live tensors for saving, then back.
        std::vector<torch::Tensor> live;
        {
            torch::NoGradGuard guard;
            for (size_t i = 0; i < trained.size(); ++i) {
                live.push_back(trained[i].second.detach().clone());
                trained[i].second.copy_(ema[i]);
            }
        }
        fs::create_directories(outDir / "text_encoder");
        fs::create_directories(outDir / "unet");
        fs::create_directories(outDir / "vae");
        fs::create_directories(outDir / "scheduler");
        fs::create_directories(outDir / "tokenizer");
        writeConfigJson(outDir / "model_index.json", {{"_class_name", "StableDiffusionPipeline"},
                                                      {"_diffusers_version", "0.21.2"},
                                                      {"scheduler", {"diffusers", "DDIMScheduler"}},
                                                      {"text_encoder", {"transformers", "CLIPTextModel"}},
                                                      {"tokenizer", {"transformers", "CLIPTokenizer"}},
                                                      {"unet", {"diffusers", "UNet2DConditionModel"}},
                                                      {"vae", {"diffusers", "AutoencoderKL"}},
                                                      {"safety_checker", {nullptr, nullptr}},
                                                      {"feature_extractor", {nullptr, nullptr}},
                                                      {"requires_safety_checker", false}});
        writeConfigJson(outDir / "text_encoder/config.json", textConfig(c, vocab));
        writeConfigJson(outDir / "unet/config.json", unetConfig(c));
        writeConfigJson(outDir / "vae/config.json", vaeConfig(scaling));
        writeConfigJson(outDir / "scheduler/scheduler_config.json", schedulerConfig());
        saveComponentWeights(trained, "text/", outDir / "text_encoder/model.safetensors", c.saveHalf);
        saveComponentWeights(trained, "unet/", outDir / "unet/diffusion_pytorch_model.safetensors", c.saveHalf);
        saveComponentWeights(vaeParams->tensors, "", outDir / "vae/diffusion_pytorch_model.safetensors", c.saveHalf);
        for (const char* f : {"vocab.json", "merges.txt"})
            fs::copy_file(c.tokenizer / f, outDir / "tokenizer" / f, fs::copy_options::overwrite_existing);
        writeConfigJson(outDir / "tokenizer/tokenizer_config.json", {{"tokenizer_class", "CLIPTokenizer"},
                                                                     {"model_max_length", 77},
                                                                     {"bos_token", "<|startoftext|>"},
                                                                     {"eos_token", "<|endoftext|>"},
                                                                     {"pad_token", "<|endoftext|>"},
                                                                     {"unk_token", "<|endoftext|>"}});
        writeConfigJson(outDir / "tokenizer/special_tokens_map.json", {{"bos_token", "<|startoftext|>"},
                                                                       {"eos_token", "<|endoftext|>"},
                                                                       {"pad_token", "<|endoftext|>"},
                                                                       {"unk_token", "<|endoftext|>"}});
        writeFileAtomically(outDir / "training_log.tsv", log.str());
        writeConfigJson(outDir / "recipe.json", {{"trainer", "spyglass-cli train-image"},
                                                 {"image_size", c.imageSize},
                                                 {"text_width", c.textWidth},
                                                 {"text_layers", c.textLayers},
                                                 {"text_heads", c.textHeads},
                                                 {"unet_channels", c.unetChannels},
                                                 {"unet_heads", c.unetHeads},
                                                 {"vae_steps", c.vaeSteps},
                                                 {"batch_size", c.batchSize},
                                                 {"max_steps", c.steps},
                                                 {"minutes", c.minutes},
                                                 {"learning_rate", c.learningRate},
                                                 {"warmup_steps", c.warmupSteps},
                                                 {"ema_decay", c.emaDecay},
                                                 {"prompt_dropout", c.promptDropout},
                                                 {"seed", c.seed},
                                                 {"save_half", c.saveHalf},
                                                 {"steps_done", step},
                                                 {"latent_scaling", scaling}});
        {
            torch::NoGradGuard guard;
            for (size_t i = 0; i < trained.size(); ++i) trained[i].second.copy_(live[i]);
        }
    };

    ImageTrainResult result;
    double window = 0;
    int windowCount = 0;
    int step = 0;
    for (step = 1; step <= c.steps && elapsed() < c.minutes * 60; ++step) {
        std::vector<Scene> batch;
        std::vector<int64_t> ids;
        for (int i = 0; i < c.batchSize; ++i) {
            batch.push_back(scenes.next());
            const std::string prompt = unit(rng) < c.promptDropout ? std::string() : batch.back().prompt;
            std::vector<int64_t> one{tokenizer->startId()};
            for (int id : tokenizer->encode(prompt).ids) one.push_back(id);
            one.push_back(tokenizer->endId());
            one.resize(77, tokenizer->padId());
            ids.insert(ids.end(), one.begin(), one.end());
        }
        const torch::Tensor latents = torch::avg_pool2d(imageBatch(batch, c.imageSize), 2) * scaling;
        const torch::Tensor t = torch::randint(0, 1000, {c.batchSize}, torch::kInt64);
        const torch::Tensor a = alphasCumprod.index_select(0, t).view({-1, 1, 1, 1});
        const torch::Tensor noise = torch::randn_like(latents);
        const torch::Tensor noisy = a.sqrt() * latents + (1 - a).sqrt() * noise;
        const torch::Tensor context = text->forward(torch::tensor(ids).view({c.batchSize, 77}));
        const torch::Tensor loss = torch::mse_loss(unet->forward(noisy, t.to(torch::kFloat32), context), noise);
        const double lr = c.learningRate * std::min(1.0, static_cast<double>(step) / c.warmupSteps);
        for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
        optimizer.zero_grad();
        loss.backward();
        std::vector<torch::Tensor> all;
        for (auto& [name, p] : trained) all.push_back(p);
        torch::nn::utils::clip_grad_norm_(all, 1.0);
        optimizer.step();
        {
            torch::NoGradGuard guard;
            const double d = std::min(c.emaDecay, (1.0 + step) / (10.0 + step));
            for (size_t i = 0; i < trained.size(); ++i) ema[i].mul_(d).add_(trained[i].second.detach(), 1 - d);
        }
        window += loss.item<double>();
        ++windowCount;
        if (step % c.logEvery == 0) {
            result.finalLoss = window / windowCount;
            log << "unet\t" << step << '\t' << result.finalLoss << '\t' << lr << '\t' << elapsed() << '\n';
            window = 0;
            windowCount = 0;
        }
        if (step % c.saveEvery == 0) save(step);
        if (progress && !progress({"training the UNet", step, c.steps})) throw Cancelled();
    }
    result.steps = step - 1;
    result.seconds = elapsed();
    save(result.steps);
    return result;
}

}  // namespace spyglass::core
