#include "image/euler_scheduler.h"

#include "spyglass/error.h"

#include <cmath>

namespace spyglass::core {

EulerScheduler::EulerScheduler(const ConfigReader& c, bool ancestral) : m_ancestral(ancestral)
{
    readCommon(c, "linspace");
    if (!ancestral) {
        if (c.string("interpolation_type", "linear") != "linear") c.fail("interpolation_type must be linear");
        m_karras = c.boolean("use_karras_sigmas", false);
    } else if (c.boolean("use_karras_sigmas", false)) {
        c.fail("use_karras_sigmas is not supported by EulerAncestralDiscreteScheduler");
    }
}

void EulerScheduler::setTimesteps(int steps)
{
    const int64_t n = m_common.trainSteps;
    if (steps < 1 || steps > n) throw Error("steps must be between 1 and " + std::to_string(n));
    std::vector<float> t;
    if (m_common.spacing == "linspace") {
        // np.linspace(0, n − 1, steps, dtype=float32), reversed.
        for (int i = steps - 1; i >= 0; --i)
            t.push_back(steps == 1
                            ? 0.0F
                            : static_cast<float>(i == steps - 1 ? static_cast<double>(n - 1)
                                                                : i * (static_cast<double>(n - 1) / (steps - 1))));
    } else if (m_common.spacing == "leading") {
        const int64_t ratio = n / steps;
        for (int i = steps - 1; i >= 0; --i)
            t.push_back(static_cast<float>(i * ratio) + static_cast<float>(m_common.stepsOffset));
    } else {
        const double ratio = static_cast<double>(n) / steps;
        for (int i = 0; i < steps; ++i)
            t.push_back(static_cast<float>(std::nearbyint(static_cast<double>(n) - i * ratio)) - 1.0F);
    }
    // σ over the training steps in float32, interpolated in float64 at the timesteps (np.interp).
    const std::vector<float> table = trainingSigmas();
    const float* s = table.data();
    std::vector<double> sig;
    m_timesteps.clear();
    for (float ti : t) {
        const double x = ti;
        double value;
        if (x <= 0) {
            value = s[0];
        } else if (x >= static_cast<double>(n - 1)) {
            value = s[n - 1];
        } else {
            const auto i = static_cast<int64_t>(std::floor(x));
            const double f = x - static_cast<double>(i);
            value = static_cast<double>(s[i]) + (static_cast<double>(s[i + 1]) - static_cast<double>(s[i])) * f;
        }
        sig.push_back(value);
        m_timesteps.push_back(static_cast<double>(ti));
    }
    if (m_karras) {
        // Karras σ between the interpolated ends; the timesteps given to the UNet are their
        // fractional inverses (not rounded), as diffusers 0.21.2 does.
        sig = karrasSigmas(sig.front(), sig.back(), steps);
        const std::vector<float> logTable = logOf(table);
        m_timesteps.clear();
        for (double v : sig) m_timesteps.push_back(sigmaToT(v, logTable));
    }
    std::vector<float> sig32(sig.begin(), sig.end());
    sig32.push_back(0.0F);
    m_sigmas = torch::tensor(sig32, torch::kFloat32);
}

double EulerScheduler::initNoiseSigma() const
{
    const torch::Tensor max = m_sigmas.max();
    if (m_common.spacing == "linspace" || m_common.spacing == "trailing") return max.item<double>();
    return (max.pow(2) + 1).pow(0.5).item<double>();
}

torch::Tensor EulerScheduler::scaleModelInput(const torch::Tensor& x, size_t call) const
{
    const torch::Tensor sigma = m_sigmas[static_cast<int64_t>(call)].to(x.device());
    return x / (sigma.pow(2) + 1).pow(0.5);
}

torch::Tensor EulerScheduler::step(const torch::Tensor& output, size_t call, const torch::Tensor& x,
                                   at::Generator& generator)
{
    const auto k = static_cast<int64_t>(call);
    const torch::Tensor sigma = m_sigmas[k].to(x.device());
    const torch::Tensor next = m_sigmas[k + 1].to(x.device());
    const torch::Tensor x0 = m_common.prediction == "epsilon"
                                 ? x - sigma * output
                                 : output * (-sigma / (sigma.pow(2) + 1).pow(0.5)) + x / (sigma.pow(2) + 1);
    const torch::Tensor derivative = (x - x0) / sigma;
    if (!m_ancestral) return x + derivative * (next - sigma);
    const torch::Tensor up = (next.pow(2) * (sigma.pow(2) - next.pow(2)) / sigma.pow(2)).pow(0.5);
    const torch::Tensor down = (next.pow(2) - up.pow(2)).pow(0.5);
    const torch::Tensor noise =
        at::randn(output.sizes(), generator, torch::TensorOptions().dtype(torch::kFloat32)).to(x.device());
    return x + derivative * (down - sigma) + noise * up;
}

}  // namespace spyglass::core
