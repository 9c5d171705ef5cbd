#pragma once
// LcmScheduler — diffusers' LCMScheduler (latent consistency models: LCM-distilled UNets and LCM-LoRAs,
// 1–8 steps). Timesteps: the distillation schedule t_i = i·k − 1 (i = 1 … original_inference_steps,
// k = num_train_timesteps / original_inference_steps), reversed, taken at the indices
// ⌊j · len / steps⌋ (4 steps of the default 50: 999, 759, 499, 259). Each step predicts x₀ (epsilon,
// v_prediction), denoises it with the consistency boundary condition
//   c_skip = σ_d² / ((10 t)² + σ_d²),  c_out = 10 t / ((10 t)² + σ_d²)^½,  σ_d = 0.5 (timestep_scaling 10)
//   denoised = c_out · x₀ + c_skip · x
// and, except after the last step, re-noises it to the next timestep with fresh Gaussian noise:
//   x' = ᾱ_prev^½ · denoised + (1 − ᾱ_prev)^½ · z.
// Thread safety: one scheduler per generation.
#include "image/scheduler.h"

namespace spyglass::core {

class LcmScheduler : public Scheduler {
public:
    explicit LcmScheduler(const ConfigReader& config);
    void setTimesteps(int steps) override;
    [[nodiscard]] torch::Tensor step(const torch::Tensor& output, size_t call, const torch::Tensor& x,
                                     at::Generator& generator) override;
    [[nodiscard]] std::string className() const override { return "LCMScheduler"; }
    [[nodiscard]] std::string shortName() const override { return "lcm"; }

private:
    int64_t m_originalSteps = 50;
    double m_timestepScaling = 10.0;
    bool m_clipSample = false;
    double m_clipRange = 1.0;
    torch::Tensor m_finalAlpha;
};

}  // namespace spyglass::core
