// `spyglass-cli compare-prompts`: the magic-prompt lab (spyglass/prompt_lab.h) headless.
#include "cli/commands.h"
#include "cli/common_options.h"
#include "cli/lab_models.h"

#include "spyglass/diffusion.h"
#include "spyglass/error.h"
#include "spyglass/heatmap_overlay.h"
#include "spyglass/prompt_lab.h"
#include "spyglass/scheduler_names.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace spyglass::cli {

namespace {

std::vector<uint64_t> parseSeeds(const std::string& text)
{
    std::vector<uint64_t> seeds;
    for (int id : parseIds(text, "seeds")) {
        if (id < 0) throw UsageError("--seeds must be non-negative integers");
        seeds.push_back(static_cast<uint64_t>(id));
    }
    if (seeds.empty()) throw UsageError("--seeds: at least one seed");
    return seeds;
}

}  // namespace

int runComparePrompts(const std::vector<std::string>& args)
{
    ArgParser parser(
        "compare-prompts",
        "--model DIR --base T --append T [--chunks-by ,] [--region x,y,w,h | --mask F.png] [--seeds 1,2,3] --out DIR");
    addImageModelOptions(parser);
    parser.addOption("base", "T", "the base prompt");
    parser.addOption("append", "T", "the appended text, split into chunks");
    parser.addOption("chunks-by", "S", "chunk separator (default ',')");
    parser.addOption("negative", "T", "negative prompt");
    parser.addOption("region", "x,y,w,h", "region of interest in pixels (default: the whole image)");
    parser.addOption("mask", "F.png", "region of interest as a mask image (non-black = inside)");
    parser.addOption("seeds", "S,S", "seeds; effects are averaged and their spread shown (default 0)");
    parser.addOption("steps", "N", "denoising steps (default 20)");
    parser.addOption("guidance", "G", "guidance scale (default 7.5)");
    parser.addOption(
        "scheduler", "NAME",
        "ddim, euler, euler_karras, euler_a, dpmpp_2m, dpmpp_2m_karras, pndm, lcm or an A1111 sampler name "
        "(default: the folder's)");
    parser.addOption("size", "WxH", "image size (default: the model's)");
    parser.addOption("threshold", "X", "RMS change (0…1) that counts as an effect (default 0.02)");
    parser.addFlag("add-one", "also run the base prompt plus each chunk alone");
    parser.addOption("out", "DIR", "folder for index.json, PNGs, grid.png and report.html");
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout
            << parser.helpText()
            << "\nRuns the full prompt, the prompt without each chunk and the base prompt (and with --add-one the\n"
               "base plus each chunk) from identical initial latents, then ranks the chunks by how much removing\n"
               "them changes the region: pixel RMS and 1−SSIM inside and outside it, the chunk's share of DAAM\n"
               "heat in the region, and how much the other words' heatmaps move there. Weights like (x:1.2)\n"
               "are applied as AUTOMATIC1111 does. A last run shows what the shortened prompt gives.\n"
               "A chunk of A1111 LoRA tags (--append \"masterpiece, <lora:detail:0.8>\") tests the LoRA itself:\n"
               "with vs without it (NAME.safetensors from --lora-dir).\n";
        return 0;
    }
    core::LabOptions o;
    o.base = parser.required("base");
    o.chunks = core::splitChunks(parser.required("append"), parser.value("chunks-by").value_or(","));
    o.negative = parser.value("negative").value_or("");
    if (auto seeds = parser.value("seeds")) o.seeds = parseSeeds(*seeds);
    o.steps = parser.intValue("steps", 20);
    o.guidance = parser.doubleValue("guidance", 7.5);
    o.scheduler = parser.value("scheduler").value_or("");
    if (!o.scheduler.empty() && !core::parseSchedulerName(o.scheduler))
        throw UsageError("--scheduler '" + o.scheduler + "' is not known: give " + core::schedulerNamesText());
    o.changeThreshold = parser.doubleValue("threshold", 0.02);
    o.addOne = parser.has("add-one");
    if (auto size = parser.value("size")) parseSize(*size, o.width, o.height);
    if (parser.has("region") && parser.has("mask")) throw UsageError("give --region or --mask, not both");
    int rx = 0, ry = 0, rw = 0, rh = 0;
    if (auto region = parser.value("region")) {
        char extra = 0;
        if (std::sscanf(region->c_str(), "%d,%d,%d,%d%c", &rx, &ry, &rw, &rh, &extra) != 4 || rw <= 0 || rh <= 0)
            throw UsageError("--region expects x,y,w,h with a positive width and height, got '" + *region + "'");
    }
    const std::string out = parser.required("out");
    const std::string device = applyRuntimeOptions(parser);

    // LoRA tags in the base or a chunk (a chunk of tags = "with vs without this LoRA") load
    // NAME.safetensors from --lora-dir, merged over the --lora list; one model in memory at a time.
    LabModels models(parser.required("model"), device, imageLoadOptions(parser), parser.value("lora-dir"));
    models.checkChunks(o.chunks);
    const core::DiffusionModel* model = &models.forTags({});
    const int width = o.width > 0 ? o.width : model->info().sampleSize * model->info().vaeScaleFactor;
    const int height = o.height > 0 ? o.height : model->info().sampleSize * model->info().vaeScaleFactor;
    std::vector<uint8_t> mask;
    if (auto maskPath = parser.value("mask")) {
        int mw = 0, mh = 0;
        const std::vector<uint8_t> rgb = core::readRgbImage(*maskPath, mw, mh);
        if (mw != width || mh != height)
            throw core::Error(*maskPath + ": the mask is " + std::to_string(mw) + "x" + std::to_string(mh) +
                              ", the images are " + std::to_string(width) + "x" + std::to_string(height));
        mask.resize(static_cast<size_t>(mw) * static_cast<size_t>(mh));
        for (size_t p = 0; p < mask.size(); ++p) mask[p] = (rgb[p * 3] | rgb[p * 3 + 1] | rgb[p * 3 + 2]) ? 1 : 0;
    } else if (parser.has("region")) {
        mask = core::rectangleMask(rx, ry, rw, rh, width, height);
    } else {
        mask.assign(static_cast<size_t>(width) * static_cast<size_t>(height), 1);
    }
    core::PromptLab lab(models.source());
    const auto progress = [](const core::Progress& p) {
        logProgress(p.stage);
        return true;
    };
    lab.run(o, progress);
    core::LabReport report = lab.score(o, mask);
    lab.runShortened(o, mask, report, progress);
    core::writeLabReport(lab, o, report, mask, out);
    for (const auto& s : report.scores) {
        char line[256];
        std::snprintf(line, sizeof line, "%-32s inside %.4f  outside %.4f  heat %.1f%%  %s", s.chunk.c_str(), s.inside,
                      s.outside, 100 * s.heatInside, core::nameString(s.verdict).c_str());
        std::cout << line << '\n';
    }
    std::cout << "shortened: " << report.shortenedPrompt << '\n';
    logProgress("wrote " + out + "/index.json, grid.png and report.html", true);
    return 0;
}

}  // namespace spyglass::cli
