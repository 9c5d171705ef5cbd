#pragma once
// DpmSolverScheduler — diffusers' DPMSolverMultistepScheduler (0.21.2): algorithm_type
// dpmsolver++ (A1111's "DPM++ 2M") or dpmsolver, solver_order 1 or 2, solver_type midpoint or
// heun, lower_order_final, use_karras_sigmas (Karras σ mapped back to integer timesteps; the step
// itself uses the ᾱ table at those timesteps, as diffusers 0.21.2 does). SDE variants and order 3
// are refused naming the config file.
#include "image/scheduler.h"

namespace spyglass::core {

class DpmSolverScheduler : public Scheduler {
public:
    explicit DpmSolverScheduler(const ConfigReader& config);
    void setTimesteps(int steps) override;
    [[nodiscard]] torch::Tensor step(const torch::Tensor& output, size_t call, const torch::Tensor& x,
                                     at::Generator& generator) override;
    [[nodiscard]] std::string className() const override { return "DPMSolverMultistepScheduler"; }
    [[nodiscard]] std::string shortName() const override;

private:
    bool m_plusPlus = true;  // dpmsolver++ (data prediction) or dpmsolver (noise prediction)
    int m_order = 2;
    bool m_midpoint = true;  // solver_type midpoint or heun
    bool m_lowerOrderFinal = true;
    bool m_karras = false;
    torch::Tensor m_alpha, m_sigma, m_lambda;  // float32 tables over the training steps
    std::vector<torch::Tensor> m_outputs;      // converted model outputs of the previous steps
};

}  // namespace spyglass::core
