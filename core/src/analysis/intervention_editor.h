#pragma once
// InterventionEditor — applies Intervention values (spyglass/intervention.h) inside forward
// passes: neurons at mlp_act, heads at the head outputs, factor directions projected out of
// mlp_act, steering vectors added to resid_pre. Disabled interventions are skipped.
#include "models/activation_editor.h"

#include "spyglass/intervention.h"

#include <vector>

namespace spyglass::core {

class InterventionEditor final : public ActivationEditor {
public:
    // Interventions must have been validated against the model (validateInterventions).
    InterventionEditor(std::vector<Intervention> interventions, const torch::Device& device);

    [[nodiscard]] bool edits(EditSite site, int layer) const override;
    [[nodiscard]] torch::Tensor edit(EditSite site, int layer, const torch::Tensor& x,
                                     int64_t startPosition) const override;

private:
    struct Prepared {
        Intervention spec;
        EditSite site = EditSite::MlpAct;
        torch::Tensor units;      // Int64 indices along the last unit axis (neurons, heads)
        torch::Tensor direction;  // [F] or [D], float32 on the device
    };
    // [T] bool: which of the T positions starting at `start` the intervention touches.
    [[nodiscard]] static torch::Tensor positionMask(const Intervention& in, int64_t start, int64_t length,
                                                    const torch::Device& device);

    std::vector<Prepared> m_prepared;
};

}  // namespace spyglass::core
