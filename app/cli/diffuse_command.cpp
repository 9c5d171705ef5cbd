// `spyglass-cli diffuse`: a Stable Diffusion image with per-word DAAM heatmaps (overlays,
// index.json) and, with --trace, the numbers behind them.
#include "cli/commands.h"
#include "cli/common_options.h"
#include "cli/heatmap_summary.h"

#include "spyglass/atomic_write.h"
#include "spyglass/diffusion.h"
#include "spyglass/error.h"
#include "spyglass/generation_parameters.h"
#include "spyglass/heatmap_overlay.h"
#include "spyglass/safetensors.h"
#include "spyglass/scheduler_names.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

namespace spyglass::cli {

namespace {

std::string fileSafe(const std::string& word)
{
    std::string out;
    for (unsigned char c : word) {
        if (std::isalnum(c)) {
            out += static_cast<char>(c);
        } else {
            static const char* hex = "0123456789abcdef";
            out += 'x';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out.substr(0, 40);
}

}  // namespace

int runDiffuse(const std::vector<std::string>& args)
{
    ArgParser parser(
        "diffuse",
        "--model DIR|F.safetensors --prompt T [options] --out image.png [--heatmaps DIR] [--trace F.safetensors]");
    addImageModelOptions(parser);
    parser.addOption("prompt", "T", "the prompt (longer than 75 tokens: encoded in 75-token windows)");
    parser.addOption("from-png", "F.png",
                     "prompt, negative prompt, steps, sampler, CFG scale, seed, size and clip skip from the "
                     "'parameters' text of an A1111 / Forge PNG (options given here win; what cannot be honoured is "
                     "said on stderr)");
    parser.addOption("original-size", "WxH", "SDXL's size conditioning: the original size (default: the image's)");
    parser.addOption("crop", "X,Y", "SDXL's crop conditioning: the crop's top-left corner (default 0,0)");
    parser.addOption("clip-skip", "N", "A1111's clip skip: 1 (default) the last text-encoder layer, 2 the one before");
    parser.addOption("negative", "T", "negative prompt (default empty)");
    parser.addOption("steps", "N", "denoising steps (default 20)");
    parser.addOption("guidance", "G", "classifier-free guidance scale (default 7.5; ≤ 1: off)");
    parser.addOption(
        "scheduler", "NAME",
        "ddim, euler, euler_karras, euler_a, dpmpp_2m, dpmpp_2m_karras, pndm, lcm, a diffusers class name or an "
        "A1111 sampler name (\"DPM++ 2M Karras\"), built from the folder's scheduler config (default: "
        "the folder's)");
    parser.addOption("timestep-spacing", "S",
                     "leading, linspace or trailing instead of the config's (trailing: few-step models)");
    parser.addOption("scheduler-config", "F", "a scheduler_config.json whose _class_name chooses the scheduler");
    parser.addOption("seed", "S", "seed of the initial noise (torch.Generator().manual_seed(S) on CPU; default 0)");
    parser.addOption("init-latents", "F", "safetensors with 'latents' [1,C,h,w]: the unscaled initial noise");
    parser.addOption("size", "WxH", "image size in pixels, multiples of 8 (default: the model's)");
    parser.addOption("out", "FILE", "image PNG to write");
    parser.addOption("heatmaps", "DIR", "write one overlay PNG per word and DIR/index.json");
    parser.addOption("colormap", "NAME",
                     "overlay colormap: jet (default), turbo, viridis, inferno, magma, plasma, hot, bone");
    parser.addOption("alpha", "A", "overlay opacity in [0, 1] (default 0.5)");
    parser.addOption("threshold", "T", "colour only pixels whose normalised map exceeds T (DAAM's mask uses 0.4)");
    parser.addOption(
        "trace", "F",
        "safetensors with token_ids, prompt_embeds, latents, image, token_maps, word_maps, word_maps_image");
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout
            << parser.helpText()
            << "\nGenerates an image natively (libtorch) and records every cross-attention map of the UNet's down\n"
               "and up blocks; per-word heatmaps are DAAM's (castorini/daam 0.2.0) at the latent grid, bicubic-\n"
               "upsampled and min-max normalised for the overlays. Progress goes to stderr.\n";
        return 0;
    }
    const std::string modelPath = parser.required("model");
    const std::string outPath = parser.required("out");
    core::DiffusionOptions o;
    if (auto png = parser.value("from-png")) {
        std::ifstream in(*png, std::ios::binary);
        if (!in) throw core::Error(*png + ": cannot be opened");
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto text = core::readPngText(bytes, "parameters", *png);
        if (!text) throw core::Error(*png + ": has no 'parameters' text (AUTOMATIC1111 / Forge write it)");
        for (const auto& note : core::applyGenerationParameters(core::parseGenerationParameters(*text), o))
            logProgress("from " + *png + ": " + note, true);
    }
    if (parser.has("prompt") || !parser.has("from-png")) o.prompt = parser.required("prompt");
    const core::DiffusionLoadOptions loadOptions = imageLoadOptions(parser, &o.prompt);
    o.negativePrompt = parser.value("negative").value_or(o.negativePrompt);
    o.steps = parser.intValue("steps", o.steps);
    o.guidance = parser.doubleValue("guidance", o.guidance);
    o.clipSkip = parser.intValue("clip-skip", o.clipSkip);
    if (parser.has("scheduler") && parser.has("scheduler-config"))
        throw UsageError("give --scheduler or --scheduler-config, not both");
    o.scheduler = parser.value("scheduler").value_or(o.scheduler);
    if (!o.scheduler.empty() && !core::parseSchedulerName(o.scheduler))
        throw UsageError("--scheduler '" + o.scheduler + "' is not known: give " + core::schedulerNamesText());
    o.timestepSpacing = parser.value("timestep-spacing").value_or("");
    if (!o.timestepSpacing.empty() && !core::isTimestepSpacing(o.timestepSpacing))
        throw UsageError("--timestep-spacing must be leading, linspace or trailing (got '" + o.timestepSpacing + "')");
    o.schedulerConfig = parser.value("scheduler-config").value_or("");
    if (parser.has("seed") && parser.has("init-latents")) throw UsageError("give --seed or --init-latents, not both");
    if (parser.has("seed")) {
        const long long seed = parser.intValue("seed", 0);
        if (seed < 0) throw UsageError("--seed must be ≥ 0");
        o.seed = static_cast<uint64_t>(seed);
    }
    if (auto latents = parser.value("init-latents")) {
        const auto file = core::SafetensorsFile::open(*latents);
        if (!file->find("latents")) throw core::Error(*latents + ": has no tensor named 'latents'");
        o.initLatents = file->readFloat("latents");
    }
    if (auto size = parser.value("size")) parseSize(*size, o.width, o.height);
    if (auto size = parser.value("original-size")) parseSize(*size, o.originalWidth, o.originalHeight);
    if (auto crop = parser.value("crop")) {
        char extra = 0;
        if (std::sscanf(crop->c_str(), "%d,%d%c", &o.cropLeft, &o.cropTop, &extra) != 2 || o.cropLeft < 0 ||
            o.cropTop < 0)
            throw UsageError("--crop expects X,Y (the crop's top-left corner, ≥ 0), got '" + *crop + "'");
    }
    core::OverlayOptions overlay;
    overlay.colormap = parser.value("colormap").value_or("jet");
    overlay.alpha = parser.doubleValue("alpha", 0.5);
    if (parser.has("threshold")) overlay.threshold = parser.doubleValue("threshold", 0.4);
    const auto& names = core::colormapNames();
    if (std::find(names.begin(), names.end(), overlay.colormap) == names.end())
        throw UsageError("--colormap '" + overlay.colormap +
                         "' is not known (jet, turbo, viridis, inferno, magma, plasma, hot, bone)");
    if (!(overlay.alpha >= 0 && overlay.alpha <= 1)) throw UsageError("--alpha must be in [0, 1]");
    o.heatmaps = parser.has("heatmaps") || parser.has("trace");
    const std::string device = applyRuntimeOptions(parser);

    auto model = core::DiffusionModel::load(modelPath, device, loadOptions);
    const core::DiffusionResult r = model->generate(o, [](const core::Progress& p) {
        logProgress(p.stage + (p.total > 1 ? " " + std::to_string(p.done) + "/" + std::to_string(p.total) : ""));
        return true;
    });
    // The A1111 "parameters" text, so that the image can be reproduced elsewhere.
    const std::string modelName = std::filesystem::path(modelPath).filename().replace_extension().string();
    core::writeRgbPng(r.rgb, r.width, r.height, outPath,
                      core::formatGenerationParameters(core::generationParametersOf(o, r, modelName)));
    logProgress("wrote " + outPath, true);

    const core::Heatmaps& h = r.heatmaps;
    if (auto dirOption = parser.value("heatmaps")) {
        const std::filesystem::path dir = *dirOption;
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) throw core::Error(dir.string() + ": cannot create the folder (" + ec.message() + ")");
        const auto pixels = static_cast<size_t>(r.width) * static_cast<size_t>(r.height);
        nlohmann::json words = heatmapWordsJson(r);
        for (size_t i = 0; i < h.words.size(); ++i) {
            const float* image = h.wordMapsImage.values.data() + i * pixels;
            const std::string file = (i < 10 ? "0" : "") + std::to_string(i) + "-" + fileSafe(h.words[i].word) + ".png";
            core::writeRgbPng(core::overlayHeatmap(r.rgb, r.width, r.height, image, overlay), r.width, r.height,
                              dir / file);
            words[i]["overlay"] = file;
        }
        nlohmann::json loraList = nlohmann::json::array();
        for (const auto& l : loadOptions.loras)
            loraList.push_back({{"file", std::filesystem::absolute(l.path).string()}, {"strength", l.strength}});
        nlohmann::json index{
            {"image", std::filesystem::absolute(outPath).string()},
            {"prompt", o.prompt},
            {"loras", loraList},
            {"negative_prompt", o.negativePrompt},
            {"scheduler", r.scheduler},
            {"sampler", r.schedulerName},
            {"steps", o.steps},
            {"unet_calls", r.timesteps.size()},
            {"guidance", o.guidance},
            {"seed", o.initLatents ? nlohmann::json(nullptr) : nlohmann::json(o.seed)},
            {"size", {r.width, r.height}},
            {"grid", {h.gridWidth, h.gridHeight}},
            {"colormap", overlay.colormap},
            {"alpha", overlay.alpha},
            {"threshold", overlay.threshold ? nlohmann::json(*overlay.threshold) : nlohmann::json(nullptr)},
            {"heatmap_method",
             "DAAM (castorini/daam 0.2.0): cross-attention of the down and up blocks, conditional half, summed over "
             "UNet calls, bicubic to the latent grid, clamped at 0, mean over layers and heads; word = mean of its "
             "tokens; overlays bicubic to the image and min-max normalised"},
            {"words", words}};
        core::writeFileAtomically(dir / "index.json", index.dump(2) + "\n");
        logProgress("wrote " + std::to_string(h.words.size()) + " overlays and " + (dir / "index.json").string(), true);
    }
    if (auto tracePath = parser.value("trace")) {
        core::SafetensorsWriter w;
        w.addInt64("token_ids", r.tokenIds);
        w.addFloat("prompt_embeds", r.promptEmbeds);
        w.addFloat("latents", r.latents);
        w.addFloat("image", r.image);
        w.addFloat("token_maps", h.tokenMaps);
        w.addFloat("word_maps", h.wordMaps);
        w.addFloat("word_maps_image", h.wordMapsImage);
        std::string words;
        for (const auto& word : h.words) words += (words.empty() ? "" : "\n") + word.word;
        w.setMetadata("words", words);
        w.setMetadata("scheduler", r.scheduler);
        w.write(*tracePath);
        logProgress("wrote " + *tracePath, true);
    }
    return 0;
}

}  // namespace spyglass::cli
