// `spyglass-cli batch`: `analyze` (or `diffuse`) for every line of a JSONL file, one result per line, written
// atomically and skipped with --resume when already there, so that a job array (Slurm, GNU
// parallel, an indexed Kubernetes Job) spreads the lines over processes with --shard I/N and no
// coordinator: line n belongs to shard (n − 1) mod N.
#include "cli/analysis_options.h"
#include "cli/commands.h"
#include "cli/common_options.h"
#include "cli/heatmap_summary.h"
#include "cli/intervention_options.h"
#include "cli/lab_models.h"

#include "spyglass/analysis.h"
#include "spyglass/atomic_write.h"
#include "spyglass/diffusion.h"
#include "spyglass/error.h"
#include "spyglass/generation_parameters.h"
#include "spyglass/heatmap_overlay.h"
#include "spyglass/prompt_lab.h"
#include "spyglass/report_json.h"
#include "spyglass/scheduler_names.h"
#include "spyglass/tokenizer.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>

namespace spyglass::cli {

namespace {

struct Shard {
    int index = 0, count = 1;
};

Shard parseShard(const std::string& text)
{
    const size_t slash = text.find('/');
    Shard s;
    try {
        if (slash == std::string::npos) throw std::invalid_argument("no /");
        size_t used = 0;
        s.index = std::stoi(text.substr(0, slash), &used);
        if (used != slash) throw std::invalid_argument("index");
        s.count = std::stoi(text.substr(slash + 1), &used);
        if (used != text.size() - slash - 1) throw std::invalid_argument("count");
    } catch (const std::exception&) {
        throw UsageError("--shard expects I/N (e.g. 0/4, as $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT), got '" +
                         text + "'");
    }
    if (s.count < 1 || s.index < 0 || s.index >= s.count)
        throw UsageError("--shard " + text + ": I must lie in 0 … N−1 (a job array of 0-(N-1))");
    return s;
}

std::string lineName(size_t number)
{
    char name[32];
    std::snprintf(name, sizeof name, "line-%06zu", number);
    return name;
}

// The report's file name: the line's "id" (letters, digits, . _ -) or line-NNNNNN (its line number).
std::string reportName(const nlohmann::json& line, size_t number)
{
    if (line.contains("id") && (line["id"].is_string() || line["id"].is_number_integer())) {
        std::string id =
            line["id"].is_string() ? line["id"].get<std::string>() : std::to_string(line["id"].get<long long>());
        bool ok = !id.empty() && id.size() <= 200 && id[0] != '.';
        for (char c : id) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
        if (ok) return id;
        throw core::Error("\"id\" must be 1–200 letters, digits, '.', '_' or '-' (not starting with '.'): '" + id +
                          "'");
    }
    return lineName(number);
}

}  // namespace

int runBatch(const std::vector<std::string>& args)
{
    // --command chooses the run and so the options (analyze's or diffuse's).
    std::string command = "analyze";
    for (size_t i = 0; i + 1 < args.size(); ++i)
        if (args[i] == "--command") command = args[i + 1];
    if (command != "analyze" && command != "diffuse" && command != "compare-prompts")
        throw UsageError("--command must be analyze, diffuse or compare-prompts (got '" + command + "')");
    const bool lab = command == "compare-prompts";
    const bool image = command == "diffuse" || lab;
    ArgParser parser("batch",
                     "--model PATH --prompts F.jsonl --out-dir DIR [--command analyze|diffuse] [--shard I/N] "
                     "[--resume] [options of the command]");
    parser.addOption("command", "C",
                     "analyze (default: one report per line), diffuse (one image per line) or compare-prompts (one "
                     "prompt-lab report per line)");
    if (image) {
        addImageModelOptions(parser);
        parser.addOption("prompts", "F.jsonl",
                         lab ? "one JSON object per line: {\"base\": T, \"append\": T} with optional \"id\", "
                               "\"negative\", \"seeds\" [S, …], \"region\" [x, y, w, h]"
                             : "one JSON object per line: {\"prompt\": T} with optional \"id\", \"negative\", "
                               "\"seed\", \"steps\", \"guidance\"");
        if (lab) {
            parser.addOption("chunks-by", "S", "chunk separator (default ',')");
            parser.addOption("threshold", "X", "RMS change (0…1) that counts as an effect (default 0.02)");
        }
        parser.addOption("steps", "N", "denoising steps (default 20; a line's \"steps\" wins)");
        parser.addOption("guidance", "G", "classifier-free guidance scale (default 7.5; a line's \"guidance\" wins)");
        parser.addOption("scheduler", "NAME", "a scheduler name (default: the model's)");
        parser.addOption("size", "WxH", "image size in pixels (default: the model's)");
    } else {
        addModelOptions(parser);
        parser.addOption(
            "prompts", "F.jsonl",
            "one JSON object per line: {\"prompt\": T} with optional \"id\", \"max_new_tokens\", \"seed\"");
        addAnalysisOptions(parser);
        addInterventionOptions(parser);
    }
    parser.addOption("out-dir", "DIR", "folder for the results (created if missing)");
    parser.addOption("shard", "I/N", "only lines n with (n − 1) mod N = I (0 ≤ I < N): one process of a job array");
    parser.addFlag("resume", "skip lines whose result is already in DIR");
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout
            << parser.helpText()
            << "\nRuns `analyze` (DIR/<id>.json, a report), `diffuse` (DIR/<id>.png with its A1111 parameters\n"
               "and DIR/<id>.json: the run's settings and each word's DAAM heat share and peak) or\n"
               "`compare-prompts` (the lab's files in DIR/<id>/, its index.json also as DIR/<id>.json) for every line\n"
               "(of this shard) with the options given, written atomically. A line that fails is written as\n"
               "DIR/<id>.error.json and the others go on; the exit status is 1 when any failed. Merge analysis\n"
               "reports with `spyglass-cli aggregate DIR`.\n";
        return 0;
    }
    const std::string modelPath = parser.required("model");
    const std::filesystem::path promptsPath = parser.required("prompts");
    const std::filesystem::path outDir = parser.required("out-dir");
    const Shard shard = parser.has("shard") ? parseShard(*parser.value("shard")) : Shard{};
    const bool resume = parser.has("resume");
    std::ifstream in(promptsPath, std::ios::binary);
    if (!in) throw core::Error(promptsPath.string() + ": cannot be read");
    std::vector<std::pair<size_t, std::string>> lines;  // (line number, text); blank lines skipped
    size_t number = 0;
    for (std::string line; std::getline(in, line);)
        if (++number, line.find_first_not_of(" \t\r") != std::string::npos) lines.emplace_back(number, line);
    std::error_code ec;
    std::filesystem::create_directories(outDir, ec);
    if (ec) throw core::Error(outDir.string() + ": cannot be created: " + ec.message());

    const std::string device = applyRuntimeOptions(parser);
    // One line's run: writes its result(s), the .json last (what --resume looks for).
    std::function<void(const nlohmann::json&, const std::filesystem::path&)> runLine;
    std::unique_ptr<core::LanguageModel> model;  // loaded at the first line that needs it
    std::unique_ptr<core::DiffusionModel> imageModel;
    core::AnalysisOptions analysis;
    core::DiffusionOptions diffusion;
    core::DiffusionLoadOptions imageLoad;
    if (image) {
        imageLoad = imageLoadOptions(parser);
        diffusion.steps = parser.intValue("steps", 20);
        diffusion.guidance = parser.doubleValue("guidance", 7.5);
        diffusion.scheduler = parser.value("scheduler").value_or("");
        if (!diffusion.scheduler.empty() && !core::parseSchedulerName(diffusion.scheduler))
            throw UsageError("--scheduler '" + diffusion.scheduler + "' is not known: give " +
                             core::schedulerNamesText());
        if (auto size = parser.value("size")) parseSize(*size, diffusion.width, diffusion.height);
        diffusion.promptWeights = true;
    }
    std::optional<LabModels> labModels;
    if (lab) {
        labModels.emplace(modelPath, device, imageLoad, parser.value("lora-dir"));
        runLine = [&](const nlohmann::json& line, const std::filesystem::path& out) {
            if (!line.contains("base") || !line["base"].is_string() || !line.contains("append") ||
                !line["append"].is_string())
                throw core::Error("expected an object with string \"base\" and \"append\"");
            core::LabOptions o;
            o.base = line["base"].get<std::string>();
            o.chunks = core::splitChunks(line["append"].get<std::string>(), parser.value("chunks-by").value_or(","));
            o.negative = line.value("negative", std::string());
            if (line.contains("seeds")) o.seeds = line["seeds"].get<std::vector<uint64_t>>();
            o.steps = diffusion.steps;
            o.guidance = diffusion.guidance;
            o.scheduler = diffusion.scheduler;
            o.width = diffusion.width;
            o.height = diffusion.height;
            o.changeThreshold = parser.doubleValue("threshold", 0.02);
            labModels->checkChunks(o.chunks);
            const core::DiffusionInfo info = labModels->forTags({}).info();
            const int width = o.width > 0 ? o.width : info.sampleSize * info.vaeScaleFactor;
            const int height = o.height > 0 ? o.height : info.sampleSize * info.vaeScaleFactor;
            std::vector<uint8_t> mask(static_cast<size_t>(width) * static_cast<size_t>(height), 1);
            if (line.contains("region")) {
                const auto r = line["region"].get<std::vector<int>>();
                if (r.size() != 4 || r[2] <= 0 || r[3] <= 0)
                    throw core::Error("\"region\" must be [x, y, w, h] with a positive width and height");
                mask = core::rectangleMask(r[0], r[1], r[2], r[3], width, height);
            }
            core::PromptLab promptLab(labModels->source());
            promptLab.run(o);
            core::LabReport report = promptLab.score(o, mask);
            promptLab.runShortened(o, mask, report);
            const std::filesystem::path dir = std::filesystem::path(out).replace_extension();
            core::writeLabReport(promptLab, o, report, mask, dir);
            // DIR/<id>.json last: the lab's index (what --resume looks for).
            std::ifstream index(dir / "index.json", std::ios::binary);
            const std::string text((std::istreambuf_iterator<char>(index)), std::istreambuf_iterator<char>());
            core::writeFileAtomically(out, text);
        };
    } else if (image) {
        runLine = [&](const nlohmann::json& line, const std::filesystem::path& out) {
            core::DiffusionOptions o = diffusion;
            o.prompt = line["prompt"].get<std::string>();
            if (line.contains("negative")) o.negativePrompt = line["negative"].get<std::string>();
            if (line.contains("seed")) o.seed = line["seed"].get<uint64_t>();
            if (line.contains("steps")) o.steps = line["steps"].get<int>();
            if (line.contains("guidance")) o.guidance = line["guidance"].get<double>();
            if (!imageModel) imageModel = core::DiffusionModel::load(modelPath, device, imageLoad);
            const core::DiffusionResult r = imageModel->generate(o);
            const std::filesystem::path png = std::filesystem::path(out).replace_extension(".png");
            const std::string modelName = std::filesystem::path(modelPath).filename().replace_extension().string();
            core::writeRgbPng(r.rgb, r.width, r.height, png,
                              core::formatGenerationParameters(core::generationParametersOf(o, r, modelName)));
            const nlohmann::json result{{"image", png.filename().string()},
                                        {"prompt", o.prompt},
                                        {"negative_prompt", o.negativePrompt},
                                        {"seed", o.seed},
                                        {"steps", o.steps},
                                        {"guidance", o.guidance},
                                        {"scheduler", r.scheduler},
                                        {"sampler", r.schedulerName},
                                        {"size", {r.width, r.height}},
                                        {"words", heatmapWordsJson(r)}};
            core::writeFileAtomically(out, result.dump(2) + "\n");
        };
    } else {
        analysis = analysisOptions(parser);
        runLine = [&](const nlohmann::json& line, const std::filesystem::path& out) {
            core::AnalysisOptions o = analysis;
            if (line.contains("max_new_tokens")) o.maxNewTokens = line["max_new_tokens"].get<int>();
            if (line.contains("seed")) o.seed = line["seed"].get<uint64_t>();
            if (!model) {
                model = core::LanguageModel::load(modelPath, loadOptions(parser, device));
                applyInterventions(parser, *model);
            }
            core::validateAnalysisOptions(o, model->info());
            core::writeReport(core::analyze(*model, line["prompt"].get<std::string>(), o), out);
        };
    }
    int done = 0, skipped = 0, failed = 0;
    for (const auto& [lineNumber, text] : lines) {
        // Line n (1-based) belongs to shard (n − 1) mod N: every process reads the same file.
        if (static_cast<int>((lineNumber - 1) % static_cast<size_t>(shard.count)) != shard.index) continue;
        std::string name = lineName(lineNumber);
        try {
            const auto line = nlohmann::json::parse(text);
            if (!line.is_object()) throw core::Error("expected a JSON object");
            if (!lab && (!line.contains("prompt") || !line["prompt"].is_string()))
                throw core::Error("expected an object with a string \"prompt\"");
            name = reportName(line, lineNumber);
            const std::filesystem::path out = outDir / (name + ".json");
            if (resume && std::filesystem::exists(out, ec)) {
                ++skipped;
                continue;
            }
            runLine(line, out);
            std::filesystem::remove(outDir / (name + ".error.json"), ec);
            ++done;
            logProgress("line " + std::to_string(lineNumber) + " → " + out.string(), true);
        } catch (const core::Cancelled&) {
            throw;
        } catch (const std::exception& e) {
            // One line's failure (bad JSON, a prompt past the window, …) is recorded; the rest go on.
            ++failed;
            const std::string message = promptsPath.string() + ":" + std::to_string(lineNumber) + ": " + e.what();
            logProgress("error: " + message, true);
            nlohmann::json error{{"line", lineNumber}, {"error", core::sanitizeUtf8(message)}};
            core::writeFileAtomically(outDir / (name + ".error.json"), error.dump() + "\n");
        }
    }
    logProgress("shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count) + ": " +
                    std::to_string(done) + " written, " + std::to_string(skipped) + " already there, " +
                    std::to_string(failed) + " failed",
                true);
    return failed > 0 ? 1 : 0;
}

}  // namespace spyglass::cli
