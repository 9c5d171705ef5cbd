#pragma once
// HeatmapRecorder — the UNet's cross-attention sink during one generation: keeps the
// conditional half of every recorded attention (rows b·heads + h of the CFG batch [uncond, cond]),
// only the key columns of the prompt's SOT/tokens/EOT rows, summed over UNet calls per
// (layer, head) exactly as DAAM does, plus a head-averaged map per call for step scrubbing.
// Thread safety: used by the generating thread only.
#include "image/unet_model.h"
#include "spyglass/diffusion.h"

#include <vector>

namespace spyglass::core {

class HeatmapRecorder {
public:
    // `keys`: the context positions kept (one per Heatmaps row); `guided`: the batch is [uncond, cond].
    HeatmapRecorder(const std::vector<CrossAttentionLayer>& layers, std::vector<int64_t> keys, bool guided);
    [[nodiscard]] CrossAttentionSink sink();
    // Call after each UNet call: closes the per-call maps.
    void endCall();
    // Moves what was recorded into `out` (layers, headSums, callMaps).
    void finish(Heatmaps& out) const;

private:
    std::vector<CrossAttentionLayer> m_layers;
    torch::Tensor m_keys;
    bool m_guided;
    std::vector<torch::Tensor> m_sums;  // per layer [heads, rows, h, w]
    std::vector<std::pair<int64_t, int64_t>> m_grids;
    std::vector<torch::Tensor> m_current;  // this call, per layer [rows, h, w]
    std::vector<std::vector<torch::Tensor>> m_calls;
};

}  // namespace spyglass::core
