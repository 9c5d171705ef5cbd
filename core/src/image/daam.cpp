// DAAM aggregation (castorini/daam 0.2.0 compute_global_heat_map, word maps, expand_as) over the
// maps a generation recorded.
#include "image/heatmap_words.h"
#include "models/torch_weights.h"
#include "spyglass/diffusion.h"
#include "spyglass/error.h"
#include "tokenize/regex_splitter.h"

#include <torch/torch.h>

#include <algorithm>

namespace spyglass::core {

std::vector<std::pair<size_t, size_t>> heatmapWordSpans(const std::string& cleaned)
{
    static const RegexSplitter splitter(R"([\p{L}\p{N}]+|[^\s\p{L}\p{N}])");
    return splitter.match(cleaned);
}

namespace F = torch::nn::functional;

namespace {

torch::Tensor fromHost(const HostTensor& t)
{
    return torch::tensor(t.values, torch::kFloat32).view(t.shape);
}

// maps [n, h, w] → [n, H, W], bicubic, align_corners = false.
torch::Tensor bicubic(const torch::Tensor& maps, int64_t height, int64_t width)
{
    return F::interpolate(maps.unsqueeze(1), F::InterpolateFuncOptions()
                                                 .size(std::vector<int64_t>{height, width})
                                                 .mode(torch::kBicubic)
                                                 .align_corners(false))
        .squeeze(1);
}

bool chosen(const std::vector<int>& set, int value)
{
    return set.empty() || std::find(set.begin(), set.end(), value) != set.end();
}

}  // namespace

HostTensor aggregateHeatmaps(const Heatmaps& h, const HeatmapFilter& filter)
{
    if (h.layers.empty()) throw Error("no heatmaps were recorded (run with heatmaps on)");
    const int calls = static_cast<int>(h.callMaps.size());
    const int end = filter.endCall < 0 ? calls : std::min(filter.endCall, calls);
    if (filter.firstCall < 0 || filter.firstCall >= end) throw Error("the step range is empty");
    const bool allCalls = filter.firstCall == 0 && end == calls;
    // DAAM stacks in first-call order: the down blocks run before the up blocks.
    std::vector<int> order;
    for (int l = 0; l < static_cast<int>(h.layers.size()); ++l)
        if (h.layers[static_cast<size_t>(l)].block == "down") order.push_back(l);
    for (int l = 0; l < static_cast<int>(h.layers.size()); ++l)
        if (h.layers[static_cast<size_t>(l)].block != "down") order.push_back(l);
    torch::Tensor sum;
    int count = 0;
    for (int l : order) {
        if (!chosen(filter.layers, l) || h.headSums[static_cast<size_t>(l)].values.empty()) continue;
        if (allCalls) {
            const torch::Tensor s = fromHost(h.headSums[static_cast<size_t>(l)]);
            for (int64_t head = 0; head < s.size(0); ++head) {
                if (!chosen(filter.heads, static_cast<int>(head))) continue;
                const torch::Tensor u = bicubic(s[head], h.gridHeight, h.gridWidth).clamp_min(0);
                sum = sum.defined() ? sum + u : u;
                ++count;
            }
        } else {
            torch::Tensor s;
            for (int c = filter.firstCall; c < end; ++c) {
                const torch::Tensor m = fromHost(h.callMaps[static_cast<size_t>(c)][static_cast<size_t>(l)]);
                s = s.defined() ? s + m : m;
            }
            const torch::Tensor u = bicubic(s, h.gridHeight, h.gridWidth).clamp_min(0);
            sum = sum.defined() ? sum + u : u;
            ++count;
        }
    }
    if (count == 0) throw Error("no recorded maps match the chosen layers and heads");
    return toHost(sum / count);
}

HostTensor wordMapsFrom(const Heatmaps& h, const HostTensor& tokenMaps)
{
    const torch::Tensor maps = fromHost(tokenMaps);
    std::vector<torch::Tensor> words;
    for (const auto& w : h.words) {
        const torch::Tensor rows = torch::tensor(std::vector<int64_t>(w.rows.begin(), w.rows.end()), torch::kInt64);
        words.push_back(maps.index_select(0, rows).mean(0));
    }
    if (words.empty()) return HostTensor{{0, maps.size(1), maps.size(2)}, {}};
    return toHost(torch::stack(words));
}

HostTensor resizeMaps(const HostTensor& maps, int height, int width, bool minMax)
{
    if (maps.numel() == 0) return HostTensor{{0, height, width}, {}};
    torch::Tensor m = bicubic(fromHost(maps), height, width);
    if (minMax) {
        const torch::Tensor flat = m.flatten(1);
        const torch::Tensor lo = std::get<0>(flat.min(1)).view({-1, 1, 1});
        const torch::Tensor hi = std::get<0>(flat.max(1)).view({-1, 1, 1});
        m = (m - lo) / (hi - lo + 1e-8);
    }
    return toHost(m);
}

}  // namespace spyglass::core
