#pragma once
// PromptLab — which chunks of a long appended "magic prompt" really change a region of the image?
// Controlled experiments on the Stable Diffusion engine: the full prompt, the prompt without each
// chunk, the base prompt alone (and optionally the base plus each chunk), all from identical
// initial latents, for one or more seeds. Each chunk is scored by the pixel change (RMS) and the
// structural change (1 − SSIM) it causes inside and outside the region, its share of DAAM heat in
// the region, and how much the other words' heatmaps move there; a verdict says whether it changes
// the region, only changes elsewhere, or has no measurable effect and can be deleted.
// Runs are cached by (prompt, seed, settings): a new region re-scores without regenerating.
// A LoRA is a chunk too: a chunk of A1111 tags ("<lora:detail:0.8>") is "with vs without this
// LoRA" — runs take their model from a LoraModelSource given their prompt's tags (tags in the base
// are in every run); a chunk of words and tags removes both.
//
//   PromptLab lab(*model);
//   LabOptions o; o.base = "a big red circle at the top left"; o.chunks = splitChunks("masterpiece, striped, 8k");
//   lab.run(o, progress);
//   LabReport r = lab.score(o, rectangleMask(0, 0, 16, 16, 32, 32));
//   writeLabReport(lab, o, r, mask, "out/");   // index.json, PNGs, grid, report.html
//
// Thread safety: one thread at a time (it drives the model).
#include "spyglass/diffusion.h"
#include "spyglass/lora_tags.h"
#include "spyglass/names.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spyglass::core {

// Splits on `separator` (default ","), outside of (…) and […] emphasis; trims; drops empty chunks.
[[nodiscard]] std::vector<std::string> splitChunks(const std::string& appended, const std::string& separator = ",");
// A width·height mask (1 inside) of a rectangle, clipped to the image.
[[nodiscard]] std::vector<uint8_t> rectangleMask(int x, int y, int w, int h, int width, int height);

struct LabOptions {
    std::string base;
    std::vector<std::string> chunks;
    std::string negative;
    std::vector<uint64_t> seeds{0};
    int steps = 20;
    double guidance = 7.5;
    std::string scheduler;  // empty: the folder's
    int width = 0, height = 0;
    bool addOne = false;            // also base + each chunk alone
    double changeThreshold = 0.02;  // RMS pixel change (0 … 1) that counts as an effect
};

struct ChunkScore {
    int index = 0;
    std::string chunk;
    double inside = 0, outside = 0;                    // RMS change when the chunk is removed (mean over seeds)
    double insideSpread = 0, outsideSpread = 0;        // standard deviation over seeds
    double structureInside = 0, structureOutside = 0;  // 1 − SSIM
    double heatInside = 0;                             // share of the chunk's DAAM heat inside the region (full prompt)
    double otherHeatChange = 0;                       // mean |Δ| of the other words' normalised maps inside the region
    std::optional<double> addedInside, addedOutside;  // base + chunk vs base
    Verdict verdict = Verdict::NoEffect;
};

struct LabReport {
    std::string fullPrompt, basePrompt, shortenedPrompt;
    double regionArea = 0;  // share of the image the region covers
    double changeThreshold = 0;
    std::vector<ChunkScore> scores;                    // ranked by change inside the region
    double shortenedInside = 0, shortenedOutside = 0;  // shortened vs full (after runShortened)
    bool shortenedRun = false;
};

// The images a lab's report is about (first seed, RGB): what the app's lab tab shows.
struct LabImages {
    int width = 0, height = 0;
    std::vector<uint8_t> full, base, shortened;
    std::vector<std::vector<uint8_t>> without;  // by chunk index
};

// The model for runs whose prompt holds the A1111 LoRA tags `tags` (empty: none): the lab's model
// with those LoRAs merged at their weights. Called before every run; it may keep the model it gave
// last (runs are ordered so that each set of tags comes once).
using LoraModelSource = std::function<DiffusionModel&(const std::vector<LoraTag>& tags)>;

class PromptLab {
public:
    // Prompts with LoRA tags are refused (OptionError) with this constructor.
    explicit PromptLab(DiffusionModel& model) : m_model(&model) {}
    explicit PromptLab(LoraModelSource source) : m_source(std::move(source)) {}

    [[nodiscard]] static std::string fullPrompt(const LabOptions& o);
    [[nodiscard]] static std::string promptWithout(const LabOptions& o, size_t chunk);
    [[nodiscard]] static std::string promptWith(const LabOptions& o, size_t chunk);
    // Every distinct prompt the experiment needs, in run order.
    [[nodiscard]] static std::vector<std::string> prompts(const LabOptions& o);

    // Generates every (prompt, seed) not cached yet. Progress "run k/n" across runs; Cancelled
    // leaves the finished runs cached.
    void run(const LabOptions& o, const ProgressCallback& progress = {});
    // Scores from cached runs only (Error when one is missing). `mask`: width·height, 1 inside.
    [[nodiscard]] LabReport score(const LabOptions& o, const std::vector<uint8_t>& mask) const;
    // Generates the shortened prompt (cached) and fills its comparison with the full prompt.
    void runShortened(const LabOptions& o, const std::vector<uint8_t>& mask, LabReport& report,
                      const ProgressCallback& progress = {});
    // The whole experiment of the app's lab tab: run(), the whole image when `mask` is empty (it is
    // filled in), score(), runShortened().
    [[nodiscard]] LabReport experiment(const LabOptions& o, std::vector<uint8_t>& mask,
                                       const ProgressCallback& progress = {});
    // The report's images from the cache (Error when one is missing).
    [[nodiscard]] LabImages images(const LabOptions& o, const LabReport& report) const;
    [[nodiscard]] std::shared_ptr<const DiffusionResult> cached(const LabOptions& o, const std::string& prompt,
                                                                uint64_t seed) const;
    [[nodiscard]] size_t cacheSize() const { return m_cache.size(); }

private:
    [[nodiscard]] static std::string key(const LabOptions& o, const std::string& prompt, uint64_t seed);
    // Generates `prompt` (tags taken out: they choose the model) and caches it under the prompt.
    void generateRun(const LabOptions& o, const std::string& prompt, uint64_t seed, const ProgressCallback& progress);
    DiffusionModel* m_model = nullptr;
    LoraModelSource m_source;
    std::map<std::string, std::shared_ptr<const DiffusionResult>> m_cache;
};

// |a − b| per pixel (mean over colours, ×4 so a 25% change is full scale) coloured with the
// inferno colormap: the difference images of the grid and the app.
[[nodiscard]] std::vector<uint8_t> differenceImage(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b,
                                                   int width, int height);

// Writes index.json (options, thresholds, ranked scores, prompts), full.png, base.png,
// without-NN.png and diff-NN.png per chunk (first seed), grid.png (each variant beside the full
// image with the region outlined and its difference map), shortened.png and report.html.
void writeLabReport(const PromptLab& lab, const LabOptions& o, const LabReport& report,
                    const std::vector<uint8_t>& mask, const std::filesystem::path& dir);

}  // namespace spyglass::core
