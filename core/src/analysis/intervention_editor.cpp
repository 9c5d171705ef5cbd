#include "analysis/intervention_editor.h"

namespace spyglass::core {

namespace {

EditSite siteOf(Intervention::Target target)
{
    switch (target) {
        case Intervention::Target::Neuron:
        case Intervention::Target::Factor:
            return EditSite::MlpAct;
        case Intervention::Target::Head:
            return EditSite::HeadOut;
        case Intervention::Target::Steer:
            return EditSite::ResidPre;
        case Intervention::Target::AttnOut:
            return EditSite::AttnOut;
        case Intervention::Target::MlpOut:
            return EditSite::MlpOut;
    }
    return EditSite::MlpAct;
}

}  // namespace

InterventionEditor::InterventionEditor(std::vector<Intervention> interventions, const torch::Device& device)
{
    for (auto& in : interventions) {
        if (!in.enabled) continue;
        Prepared p;
        p.site = siteOf(in.target);
        if (!in.units.empty())
            p.units = torch::tensor(std::vector<int64_t>(in.units.begin(), in.units.end()), torch::kInt64).to(device);
        if (!in.direction.empty()) p.direction = torch::tensor(in.direction, torch::kFloat32).to(device);
        p.spec = std::move(in);
        m_prepared.push_back(std::move(p));
    }
}

bool InterventionEditor::edits(EditSite site, int layer) const
{
    for (const Prepared& p : m_prepared)
        if (p.site == site && p.spec.layer == layer) return true;
    return false;
}

torch::Tensor InterventionEditor::positionMask(const Intervention& in, int64_t start, int64_t length,
                                               const torch::Device& device)
{
    if (in.positions.empty()) return torch::ones({length}, torch::TensorOptions().dtype(torch::kBool).device(device));
    torch::Tensor mask = torch::zeros({length}, torch::kBool);
    for (int p : in.positions)
        if (p >= start && p < start + length) mask[p - start] = true;
    return mask.to(device);
}

torch::Tensor InterventionEditor::edit(EditSite site, int layer, const torch::Tensor& x, int64_t startPosition) const
{
    torch::Tensor y = x;
    const int64_t length = x.size(1);
    for (const Prepared& p : m_prepared) {
        if (p.site != site || p.spec.layer != layer) continue;
        const torch::Tensor positions = positionMask(p.spec, startPosition, length, x.device());
        if (!p.spec.positions.empty() && !positions.any().item<bool>()) continue;
        switch (p.spec.target) {
            case Intervention::Target::Neuron:
            case Intervention::Target::Head: {
                // mask [T, units(, 1)]: the chosen units at the chosen positions; exact values elsewhere.
                const int64_t unitAxis = site == EditSite::HeadOut ? x.size(2) : x.size(-1);
                torch::Tensor units =
                    torch::zeros({unitAxis}, torch::TensorOptions().dtype(torch::kBool).device(x.device()));
                units.index_fill_(0, p.units, true);
                torch::Tensor mask = positions.view({length, 1}).logical_and(units.view({1, unitAxis}));
                if (site == EditSite::HeadOut) mask = mask.unsqueeze(-1);
                const Intervention::Operation op = p.spec.operation;
                const torch::Tensor changed =
                    op == Intervention::Operation::Scale ? y * p.spec.value : torch::full_like(y, p.spec.value);
                y = torch::where(mask, changed, y);
                break;
            }
            case Intervention::Target::AttnOut:
            case Intervention::Target::MlpOut: {
                const Intervention::Operation op = p.spec.operation;
                const torch::Tensor changed =
                    op == Intervention::Operation::Scale ? y * p.spec.value : torch::full_like(y, p.spec.value);
                y = torch::where(positions.view({length, 1}), changed, y);
                break;
            }
            case Intervention::Target::Factor: {
                const torch::Tensor u = p.direction.to(y.dtype());
                const torch::Tensor projected = y - torch::matmul(y, u).unsqueeze(-1) * u;
                y = torch::where(positions.view({length, 1}), projected, y);
                break;
            }
            case Intervention::Target::Steer: {
                const torch::Tensor added = y + p.direction.to(y.dtype()) * p.spec.alpha;
                y = torch::where(positions.view({length, 1}), added, y);
                break;
            }
        }
    }
    return y;
}

}  // namespace spyglass::core
