#pragma once
// EulerScheduler — diffusers' EulerDiscreteScheduler (s_churn 0, linear interpolation of σ, Karras σ
// with use_karras_sigmas) and,
// with `ancestral`, EulerAncestralDiscreteScheduler (noise drawn from the run's generator).
#include "image/scheduler.h"

namespace spyglass::core {

class EulerScheduler : public Scheduler {
public:
    EulerScheduler(const ConfigReader& config, bool ancestral);
    void setTimesteps(int steps) override;
    [[nodiscard]] double initNoiseSigma() const override;
    [[nodiscard]] torch::Tensor scaleModelInput(const torch::Tensor& x, size_t call) const override;
    [[nodiscard]] torch::Tensor step(const torch::Tensor& output, size_t call, const torch::Tensor& x,
                                     at::Generator& generator) override;
    [[nodiscard]] std::string className() const override
    {
        return m_ancestral ? "EulerAncestralDiscreteScheduler" : "EulerDiscreteScheduler";
    }
    [[nodiscard]] std::string shortName() const override
    {
        return m_ancestral ? "euler_a" : (m_karras ? "euler_karras" : "euler");
    }
    // float32 σ per call, then 0.
    [[nodiscard]] const torch::Tensor& sigmas() const { return m_sigmas; }

private:
    bool m_ancestral;
    bool m_karras = false;
    torch::Tensor m_sigmas;
};

}  // namespace spyglass::core
