#pragma once
// ActivationEditor — changes activations while a forward pass computes them: interventions
// (ablation, steering) and activation patching. Both model classes call edit() at each site of
// each layer, before the activation is captured or used, so captures show the edited values.
// Shapes: ResidPre, AttnOut, MlpOut [B, T, D]; MlpAct [B, T, F]; HeadOut [B, T, H, head width]
// (a head's output before the output projection). `startPosition` is the absolute position of
// index 0 along T (non-zero with a KV cache). Edits are out of place, so autograd sees them.
#include <torch/torch.h>

namespace spyglass::core {

enum class EditSite { ResidPre, HeadOut, AttnOut, MlpAct, MlpOut };

class ActivationEditor {
public:
    virtual ~ActivationEditor() = default;
    [[nodiscard]] virtual bool edits(EditSite site, int layer) const = 0;
    [[nodiscard]] virtual torch::Tensor edit(EditSite site, int layer, const torch::Tensor& x,
                                             int64_t startPosition) const = 0;
};

}  // namespace spyglass::core
