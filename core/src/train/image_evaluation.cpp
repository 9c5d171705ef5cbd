#include "spyglass/image_evaluation.h"

#include "spyglass/error.h"
#include "spyglass/shape_scenes.h"

#include <algorithm>

namespace spyglass::core {

namespace {

// Share of `word`'s heat (image size, not normalised) inside `mask`; −1 when the word is absent.
double heatInside(const DiffusionResult& r, const std::string& word, const std::vector<uint8_t>& mask)
{
    const Heatmaps& h = r.heatmaps;
    for (size_t i = 0; i < h.words.size(); ++i) {
        if (h.words[i].word != word) continue;
        const HostTensor one{
            {1, h.gridHeight, h.gridWidth},
            std::vector<float>(
                h.wordMaps.values.begin() +
                    static_cast<std::ptrdiff_t>(i * static_cast<size_t>(h.gridHeight * h.gridWidth)),
                h.wordMaps.values.begin() +
                    static_cast<std::ptrdiff_t>((i + 1) * static_cast<size_t>(h.gridHeight * h.gridWidth)))};
        const HostTensor image = resizeMaps(one, r.height, r.width, false);
        double in = 0, total = 0;
        for (size_t p = 0; p < mask.size(); ++p) {
            const double v = std::max(0.0F, image.values[p]);
            total += v;
            in += mask[p] ? v : 0.0;
        }
        return total > 0 ? in / total : 0.0;
    }
    return -1;
}

}  // namespace

ImageEvalResult evaluateImageModel(DiffusionModel& model, const ImageEvalOptions& o, const ProgressCallback& progress)
{
    if (o.prompts < 1) throw OptionError("prompts", "must be at least 1");
    const int size = model.info().sampleSize * model.info().vaeScaleFactor;
    SceneGenerator generator(o.seed + 1000, size);
    ImageEvalResult r;
    int shapeHeats = 0, colorHeats = 0;
    for (int i = 0; i < o.prompts; ++i) {
        if (progress && !progress({"evaluating", i, o.prompts})) throw Cancelled();
        const SceneSpec spec = generator.randomSpec(o.heldOut);
        const Scene truth = drawScene(spec, size);
        DiffusionOptions d;
        d.prompt = truth.prompt;
        d.steps = o.steps;
        d.guidance = o.guidance;
        d.seed = o.seed + static_cast<uint64_t>(i);
        const DiffusionResult g = model.generate(d);
        const SceneReading read = readScene(g.rgb, g.width);
        ImageEvalSample s{truth.prompt, read.shape, read.color, read.size, read.position, read.found};
        r.found += read.found;
        const bool shape = read.found && read.shape == spec.shape, color = read.found && read.color == spec.color;
        const bool sized = read.found && read.size == spec.size, placed = read.found && read.position == spec.position;
        const bool background = read.whiteBackground == spec.whiteBackground;
        r.shape += shape;
        r.color += color;
        r.size += sized;
        r.position += placed;
        r.background += background;
        r.all += shape && color && sized && placed && background;
        // The object as the model drew it (where it is, not where the prompt asked for it).
        const std::vector<uint8_t>& object = read.found ? read.mask : truth.mask;
        double area = 0;
        for (uint8_t m : object) area += m;
        r.objectArea += area / static_cast<double>(object.size());
        if (const double h = heatInside(g, spec.shape, object); h >= 0) {
            r.shapeHeatInside += h;
            ++shapeHeats;
        }
        if (const double h = heatInside(g, spec.color, object); h >= 0) {
            r.colorHeatInside += h;
            ++colorHeats;
        }
        r.samples.push_back(std::move(s));
    }
    const double n = o.prompts;
    r.prompts = o.prompts;
    for (double* v : {&r.found, &r.shape, &r.color, &r.size, &r.position, &r.background, &r.all, &r.objectArea})
        *v /= n;
    if (shapeHeats) r.shapeHeatInside /= shapeHeats;
    if (colorHeats) r.colorHeatInside /= colorHeats;
    return r;
}

}  // namespace spyglass::core
