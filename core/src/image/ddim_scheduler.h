#pragma once
// DdimScheduler — diffusers' DDIMScheduler with η = 0 (deterministic).
#include "image/scheduler.h"

namespace spyglass::core {

class DdimScheduler : public Scheduler {
public:
    explicit DdimScheduler(const ConfigReader& config);
    void setTimesteps(int steps) override;
    [[nodiscard]] torch::Tensor step(const torch::Tensor& output, size_t call, const torch::Tensor& x,
                                     at::Generator& generator) override;
    [[nodiscard]] std::string className() const override { return "DDIMScheduler"; }
    [[nodiscard]] std::string shortName() const override { return "ddim"; }

private:
    torch::Tensor m_finalAlpha;
    bool m_clipSample = true;
    double m_clipRange = 1.0;
    int m_steps = 0;
};

}  // namespace spyglass::core
