#include "image/ddim_scheduler.h"

#include "spyglass/error.h"

#include <cmath>

namespace spyglass::core {

DdimScheduler::DdimScheduler(const ConfigReader& c)
{
    readCommon(c, "leading");
    m_clipSample = c.boolean("clip_sample", true);
    m_clipRange = c.number("clip_sample_range", 1.0);
    m_finalAlpha = c.boolean("set_alpha_to_one", true) ? torch::tensor(1.0F) : alphaProduct(0);
}

void DdimScheduler::setTimesteps(int steps)
{
    const int64_t n = m_common.trainSteps;
    if (steps < 1 || steps > n) throw Error("steps must be between 1 and " + std::to_string(n));
    m_steps = steps;
    m_timesteps.clear();
    if (m_common.spacing == "leading") {
        const int64_t ratio = n / steps;
        for (int i = steps - 1; i >= 0; --i)
            m_timesteps.push_back(static_cast<double>(i * ratio + m_common.stepsOffset));
    } else if (m_common.spacing == "linspace") {
        for (int i = steps - 1; i >= 0; --i)
            m_timesteps.push_back(std::nearbyint(steps == 1       ? 0.0
                                                 : i == steps - 1 ? static_cast<double>(n - 1)
                                                                  : i * (static_cast<double>(n - 1) / (steps - 1))));
    } else {
        const double ratio = static_cast<double>(n) / steps;
        for (int i = 0; i < steps; ++i) m_timesteps.push_back(std::nearbyint(static_cast<double>(n) - i * ratio) - 1);
    }
}

torch::Tensor DdimScheduler::step(const torch::Tensor& output, size_t call, const torch::Tensor& x,
                                  at::Generator& /*generator*/)
{
    const auto t = static_cast<int64_t>(m_timesteps.at(call));
    const int64_t prev = t - m_common.trainSteps / m_steps;
    const torch::Tensor a = alphaProduct(t).to(x.device());
    const torch::Tensor aPrev = (prev >= 0 ? alphaProduct(prev) : m_finalAlpha).to(x.device());
    const torch::Tensor beta = 1 - a;
    torch::Tensor x0, eps;
    if (m_common.prediction == "epsilon") {
        x0 = (x - beta.pow(0.5) * output) / a.pow(0.5);
        eps = output;
    } else {
        x0 = a.pow(0.5) * x - beta.pow(0.5) * output;
        eps = a.pow(0.5) * output + beta.pow(0.5) * x;
    }
    if (m_clipSample) x0 = x0.clamp(-m_clipRange, m_clipRange);
    return aPrev.pow(0.5) * x0 + (1 - aPrev).pow(0.5) * eps;
}

}  // namespace spyglass::core
