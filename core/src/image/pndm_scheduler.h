#pragma once
// PndmScheduler — diffusers' PNDMScheduler: PLMS with the skip_prk_steps start (steps + 1 UNet
// calls, one timestep repeated) or the Runge–Kutta (PRK) warm-up when skip_prk_steps is false.
#include "image/scheduler.h"

#include <optional>

namespace spyglass::core {

class PndmScheduler : public Scheduler {
public:
    explicit PndmScheduler(const ConfigReader& config);
    void setTimesteps(int steps) override;
    [[nodiscard]] torch::Tensor step(const torch::Tensor& output, size_t call, const torch::Tensor& x,
                                     at::Generator& generator) override;
    [[nodiscard]] std::string className() const override { return "PNDMScheduler"; }
    [[nodiscard]] std::string shortName() const override { return "pndm"; }

private:
    [[nodiscard]] torch::Tensor previous(const torch::Tensor& x, int64_t t, int64_t prev, torch::Tensor output) const;
    [[nodiscard]] torch::Tensor stepPrk(const torch::Tensor& output, int64_t t, const torch::Tensor& x);
    [[nodiscard]] torch::Tensor stepPlms(const torch::Tensor& output, int64_t t, torch::Tensor x);

    bool m_skipPrk = false;
    torch::Tensor m_finalAlpha;
    int m_steps = 0;
    std::vector<int64_t> m_prkTimesteps;
    int m_counter = 0;
    std::vector<torch::Tensor> m_ets;
    std::optional<torch::Tensor> m_curSample;
    torch::Tensor m_curOutput;
};

}  // namespace spyglass::core
