#include "cli/heatmap_summary.h"

#include <algorithm>

namespace spyglass::cli {

nlohmann::json heatmapWordsJson(const core::DiffusionResult& r)
{
    const core::Heatmaps& h = r.heatmaps;
    const auto pixels = static_cast<size_t>(r.width) * static_cast<size_t>(r.height);
    const auto cells = static_cast<size_t>(h.gridWidth) * static_cast<size_t>(h.gridHeight);
    double total = 0;
    for (float v : h.wordMaps.values) total += v;
    nlohmann::json words = nlohmann::json::array();
    for (size_t i = 0; i < h.words.size(); ++i) {
        const float* image = h.wordMapsImage.values.data() + i * pixels;
        const float* latent = h.wordMaps.values.data() + i * cells;
        double sum = 0, max = 0;
        for (size_t c = 0; c < cells; ++c) {
            sum += latent[c];
            max = std::max(max, double(latent[c]));
        }
        const auto peak = static_cast<size_t>(std::max_element(image, image + pixels) - image);
        std::vector<std::string> tokens;
        for (int row : h.words[i].rows) tokens.push_back(h.rowTokens[static_cast<size_t>(row)]);
        words.push_back(
            {{"word", h.words[i].word},
             {"tokens", tokens},
             {"rows", h.words[i].rows},
             {"mean", sum / static_cast<double>(cells)},
             {"max", max},
             {"share", total > 0 ? sum / total : 0.0},
             {"peak", {{"x", peak % static_cast<size_t>(r.width)}, {"y", peak / static_cast<size_t>(r.width)}}}});
    }
    return words;
}

}  // namespace spyglass::cli
