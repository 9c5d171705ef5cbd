#include "image/heatmap_recorder.h"

#include "models/torch_weights.h"

namespace spyglass::core {

HeatmapRecorder::HeatmapRecorder(const std::vector<CrossAttentionLayer>& layers, std::vector<int64_t> keys, bool guided)
    : m_layers(layers),
      m_keys(torch::tensor(keys, torch::kInt64)),
      m_guided(guided),
      m_sums(layers.size()),
      m_grids(layers.size()),
      m_current(layers.size())
{
}

CrossAttentionSink HeatmapRecorder::sink()
{
    return [this](int layer, const torch::Tensor& probs, int64_t height, int64_t width) {
        const int64_t heads = m_layers[static_cast<size_t>(layer)].heads;
        const torch::Tensor cond = m_guided ? probs.slice(0, probs.size(0) - heads) : probs.slice(0, 0, heads);
        const torch::Tensor maps = cond.index_select(2, m_keys.to(probs.device()))
                                       .permute({0, 2, 1})
                                       .reshape({heads, m_keys.size(0), height, width})
                                       .to(torch::kCPU);
        auto& sum = m_sums[static_cast<size_t>(layer)];
        sum = sum.defined() ? sum + maps : maps.clone();
        m_grids[static_cast<size_t>(layer)] = {height, width};
        m_current[static_cast<size_t>(layer)] = maps.mean(0);
    };
}

void HeatmapRecorder::endCall()
{
    m_calls.push_back(m_current);
    for (auto& t : m_current) t = torch::Tensor();
}

void HeatmapRecorder::finish(Heatmaps& out) const
{
    out.layers.clear();
    out.headSums.clear();
    out.callMaps.clear();
    for (size_t l = 0; l < m_layers.size(); ++l) {
        out.layers.push_back({m_layers[l].name, m_layers[l].block, static_cast<int>(m_layers[l].heads),
                              static_cast<int>(m_grids[l].first), static_cast<int>(m_grids[l].second)});
        out.headSums.push_back(m_sums[l].defined() ? toHost(m_sums[l]) : HostTensor{});
    }
    for (const auto& call : m_calls) {
        std::vector<HostTensor> maps;
        for (const auto& t : call) maps.push_back(t.defined() ? toHost(t) : HostTensor{});
        out.callMaps.push_back(std::move(maps));
    }
}

}  // namespace spyglass::core
