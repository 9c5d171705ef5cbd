#include "image/dpm_solver_scheduler.h"

#include "spyglass/error.h"

#include <algorithm>
#include <cmath>

namespace spyglass::core {

DpmSolverScheduler::DpmSolverScheduler(const ConfigReader& c)
{
    readCommon(c, "linspace");
    const std::string algorithm = c.string("algorithm_type", "dpmsolver++");
    if (algorithm != "dpmsolver++" && algorithm != "dpmsolver")
        c.fail("algorithm_type '" + algorithm +
               "' is not supported (dpmsolver++, dpmsolver; the SDE variants are not)");
    m_plusPlus = algorithm == "dpmsolver++";
    m_order = static_cast<int>(c.integer("solver_order", 2));
    if (m_order != 1 && m_order != 2) c.fail("solver_order " + std::to_string(m_order) + " is not supported (1, 2)");
    const std::string type = c.string("solver_type", "midpoint");
    if (type != "midpoint" && type != "heun") c.fail("solver_type '" + type + "' is not supported (midpoint, heun)");
    m_midpoint = type == "midpoint";
    m_lowerOrderFinal = c.boolean("lower_order_final", true);
    m_karras = c.boolean("use_karras_sigmas", false);
    if (c.has("lambda_min_clipped") && c.json()["lambda_min_clipped"].is_number() &&
        std::isfinite(c.number("lambda_min_clipped", 0)))
        c.fail("lambda_min_clipped is not supported (only -inf, the default)");
    if (c.has("variance_type")) c.fail("variance_type is not supported (only null, the default)");
    if (c.boolean("use_lu_lambdas", false)) c.fail("use_lu_lambdas is not supported");
    if (c.boolean("euler_at_final", false)) c.fail("euler_at_final is not supported");
    m_alpha = m_alphasCumprod.sqrt();
    m_sigma = (1 - m_alphasCumprod).sqrt();
    m_lambda = m_alpha.log() - m_sigma.log();
}

std::string DpmSolverScheduler::shortName() const
{
    if (!m_plusPlus || m_order != 2 || !m_midpoint) return "dpm_solver";
    return m_karras ? "dpmpp_2m_karras" : "dpmpp_2m";
}

void DpmSolverScheduler::setTimesteps(int steps)
{
    const int64_t n = m_common.trainSteps;
    if (steps < 1 || steps > n) throw Error("steps must be between 1 and " + std::to_string(n));
    std::vector<double> t;
    if (m_common.spacing == "linspace") {
        // np.linspace(0, n − 1, steps + 1).round()[::-1][:-1]
        for (int i = steps; i >= 1; --i)
            t.push_back(
                std::nearbyint(i == steps ? static_cast<double>(n - 1) : i * (static_cast<double>(n - 1) / steps)));
    } else if (m_common.spacing == "leading") {
        const int64_t ratio = n / (steps + 1);
        for (int i = steps; i >= 1; --i) t.push_back(static_cast<double>(i * ratio + m_common.stepsOffset));
    } else {
        // np.arange(n, 0, −n / steps).round() − 1 (a value below 0 from rounding is dropped)
        const double ratio = static_cast<double>(n) / steps;
        const auto count = static_cast<int64_t>(std::ceil(static_cast<double>(n) / ratio));
        for (int64_t k = 0; k < count; ++k) {
            const double v = std::nearbyint(static_cast<double>(n) - static_cast<double>(k) * ratio) - 1;
            if (v >= 0) t.push_back(v);
        }
    }
    if (m_karras) {
        // Karras σ between the table's ends (ascending, as diffusers computes them), mapped back to
        // rounded timesteps, then reversed.
        const std::vector<float> table = trainingSigmas();
        const std::vector<float> logTable = logOf(table);
        const std::vector<double> sigmas = karrasSigmas(table.front(), table.back(), steps);
        t.clear();
        for (auto it = sigmas.rbegin(); it != sigmas.rend(); ++it) t.push_back(std::nearbyint(sigmaToT(*it, logTable)));
    }
    // Duplicates removed, first occurrence kept (np.unique with return_index, then sorted).
    m_timesteps.clear();
    for (double v : t)
        if (std::find(m_timesteps.begin(), m_timesteps.end(), v) == m_timesteps.end()) m_timesteps.push_back(v);
    m_outputs.clear();
}

torch::Tensor DpmSolverScheduler::step(const torch::Tensor& output, size_t call, const torch::Tensor& x,
                                       at::Generator& /*generator*/)
{
    const size_t last = m_timesteps.size() - 1;
    const auto s0 = static_cast<int64_t>(m_timesteps.at(call));
    const int64_t t = call == last ? 0 : static_cast<int64_t>(m_timesteps[call + 1]);
    const auto dev = x.device();
    const torch::Tensor alphaS0 = m_alpha[s0].to(dev), sigmaS0 = m_sigma[s0].to(dev);
    // Data prediction (dpmsolver++) or noise prediction (dpmsolver) from the model's output.
    torch::Tensor m0;
    if (m_plusPlus)
        m0 = m_common.prediction == "epsilon" ? (x - sigmaS0 * output) / alphaS0 : alphaS0 * x - sigmaS0 * output;
    else
        m0 = m_common.prediction == "epsilon" ? output : alphaS0 * output + sigmaS0 * x;
    const bool lowerOrderFinal = call == last && m_lowerOrderFinal && m_timesteps.size() < 15;
    const bool firstOrder = m_order == 1 || m_outputs.empty() || lowerOrderFinal;
    const torch::Tensor alphaT = m_alpha[t].to(dev), sigmaT = m_sigma[t].to(dev);
    const torch::Tensor lambdaT = m_lambda[t].to(dev), lambdaS0 = m_lambda[s0].to(dev);
    const torch::Tensor h = lambdaT - lambdaS0;
    torch::Tensor next;
    if (firstOrder) {
        next = m_plusPlus ? (sigmaT / sigmaS0) * x - (alphaT * (torch::exp(-h) - 1.0)) * m0
                          : (alphaT / alphaS0) * x - (sigmaT * (torch::exp(h) - 1.0)) * m0;
    } else {
        const auto s1 = static_cast<int64_t>(m_timesteps.at(call - 1));
        const torch::Tensor h0 = lambdaS0 - m_lambda[s1].to(dev);
        const torch::Tensor r0 = h0 / h;
        const torch::Tensor d1 = (1.0 / r0) * (m0 - m_outputs.back());
        if (m_plusPlus) {
            const torch::Tensor c = alphaT * (torch::exp(-h) - 1.0);
            next = m_midpoint ? (sigmaT / sigmaS0) * x - c * m0 - 0.5 * c * d1
                              : (sigmaT / sigmaS0) * x - c * m0 + (alphaT * ((torch::exp(-h) - 1.0) / h + 1.0)) * d1;
        } else {
            const torch::Tensor c = sigmaT * (torch::exp(h) - 1.0);
            next = m_midpoint ? (alphaT / alphaS0) * x - c * m0 - 0.5 * c * d1
                              : (alphaT / alphaS0) * x - c * m0 - (sigmaT * ((torch::exp(h) - 1.0) / h - 1.0)) * d1;
        }
    }
    m_outputs.assign(1, m0);
    return next;
}

}  // namespace spyglass::core
