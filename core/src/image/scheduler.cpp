#include "image/scheduler.h"

#include "image/ddim_scheduler.h"
#include "image/dpm_solver_scheduler.h"
#include "image/euler_scheduler.h"
#include "image/lcm_scheduler.h"
#include "image/pndm_scheduler.h"
#include "spyglass/error.h"
#include "spyglass/scheduler_names.h"

#include <algorithm>
#include <cmath>

namespace spyglass::core {

std::unique_ptr<Scheduler> Scheduler::create(const std::string& name, const ConfigReader& config,
                                             const std::string& spacing)
{
    const std::optional<SchedulerChoice> choice = parseSchedulerName(name);
    if (!choice)
        throw Error(config.path().string() + ": scheduler '" + name + "' is not supported (" + schedulerNamesText() +
                    ")");
    if (!spacing.empty() && !isTimestepSpacing(spacing))
        throw Error("timestep spacing '" + spacing + "' is not supported (leading, linspace, trailing)");
    nlohmann::json json = config.json();
    if (choice->karras) json["use_karras_sigmas"] = *choice->karras;
    if (choice->dpmPlusPlus2M) {
        json["algorithm_type"] = "dpmsolver++";
        json["solver_order"] = 2;
        json["solver_type"] = "midpoint";
    }
    if (!spacing.empty()) json["timestep_spacing"] = spacing;
    const ConfigReader c(std::move(json), config.path());
    const std::string& cls = choice->className;
    if (cls == "DDIMScheduler") return std::make_unique<DdimScheduler>(c);
    if (cls == "EulerDiscreteScheduler") return std::make_unique<EulerScheduler>(c, false);
    if (cls == "EulerAncestralDiscreteScheduler") return std::make_unique<EulerScheduler>(c, true);
    if (cls == "DPMSolverMultistepScheduler") return std::make_unique<DpmSolverScheduler>(c);
    if (cls == "LCMScheduler") return std::make_unique<LcmScheduler>(c);
    return std::make_unique<PndmScheduler>(c);
}

std::unique_ptr<Scheduler> Scheduler::fromConfig(const ConfigReader& config, const std::string& spacing)
{
    if (!config.has("_class_name")) config.fail("has no \"_class_name\" to say which scheduler it configures");
    return create(config.string("_class_name", ""), config, spacing);
}

void Scheduler::readCommon(const ConfigReader& c, const std::string& defaultSpacing)
{
    m_common.trainSteps = c.integer("num_train_timesteps", 1000);
    if (m_common.trainSteps < 2 || m_common.trainSteps > 100000)
        c.fail("num_train_timesteps must be between 2 and 100000");
    m_common.betaStart = c.number("beta_start", 0.0001);
    m_common.betaEnd = c.number("beta_end", 0.02);
    m_common.betaSchedule = c.string("beta_schedule", "linear");
    if (c.has("trained_betas")) m_common.trainedBetas = c.numbers("trained_betas");
    m_common.prediction = c.string("prediction_type", "epsilon");
    if (m_common.prediction != "epsilon" && m_common.prediction != "v_prediction")
        c.fail("prediction_type '" + m_common.prediction + "' is not supported (epsilon, v_prediction)");
    m_common.stepsOffset = c.integer("steps_offset", 0);
    m_common.spacing = c.string("timestep_spacing", defaultSpacing);
    if (m_common.spacing != "leading" && m_common.spacing != "linspace" && m_common.spacing != "trailing")
        c.fail("timestep_spacing '" + m_common.spacing + "' is not supported (leading, linspace, trailing)");
    if (c.boolean("rescale_betas_zero_snr", false)) c.fail("rescale_betas_zero_snr is not supported");
    if (c.boolean("thresholding", false)) c.fail("thresholding is not supported");

    const int64_t n = m_common.trainSteps;
    torch::Tensor betas;
    if (!m_common.trainedBetas.empty()) {
        if (static_cast<int64_t>(m_common.trainedBetas.size()) != n)
            c.fail("trained_betas must have num_train_timesteps entries");
        betas = torch::tensor(m_common.trainedBetas, torch::kFloat64).to(torch::kFloat32);
    } else if (m_common.betaSchedule == "linear") {
        betas = torch::linspace(m_common.betaStart, m_common.betaEnd, n, torch::kFloat32);
    } else if (m_common.betaSchedule == "scaled_linear") {
        betas = torch::linspace(std::sqrt(m_common.betaStart), std::sqrt(m_common.betaEnd), n, torch::kFloat32).pow(2);
    } else if (m_common.betaSchedule == "squaredcos_cap_v2") {
        auto alphaBar = [](double t) { return std::pow(std::cos((t + 0.008) / 1.008 * M_PI / 2), 2); };
        std::vector<double> b;
        for (int64_t i = 0; i < n; ++i)
            b.push_back(
                std::min(1 - alphaBar(static_cast<double>(i + 1) / n) / alphaBar(static_cast<double>(i) / n), 0.999));
        betas = torch::tensor(b, torch::kFloat64).to(torch::kFloat32);
    } else {
        c.fail("beta_schedule '" + m_common.betaSchedule +
               "' is not supported (linear, scaled_linear, squaredcos_cap_v2)");
    }
    m_alphasCumprod = torch::cumprod(1.0 - betas, 0);
}

std::vector<float> Scheduler::trainingSigmas() const
{
    const torch::Tensor all = ((1 - m_alphasCumprod) / m_alphasCumprod).pow(0.5).contiguous();
    return {all.data_ptr<float>(), all.data_ptr<float>() + all.numel()};
}

std::vector<float> Scheduler::logOf(const std::vector<float>& values)
{
    std::vector<float> out;
    out.reserve(values.size());
    for (float v : values) out.push_back(std::log(v));
    return out;
}

std::vector<double> Scheduler::karrasSigmas(double first, double last, int steps)
{
    constexpr double rho = 7.0;
    const double a = std::pow(first, 1 / rho), b = std::pow(last, 1 / rho);
    std::vector<double> out;
    for (int i = 0; i < steps; ++i) {
        // np.linspace(0, 1, steps)
        const double ramp = steps == 1 ? 0.0 : (i == steps - 1 ? 1.0 : i * (1.0 / (steps - 1)));
        out.push_back(std::pow(a + ramp * (b - a), rho));
    }
    return out;
}

double Scheduler::sigmaToT(double sigma, const std::vector<float>& logSigmas)
{
    const double logSigma = std::log(sigma);
    const auto n = static_cast<int64_t>(logSigmas.size());
    int64_t low = 0;
    for (int64_t i = 0; i < n; ++i)
        if (logSigma - static_cast<double>(logSigmas[static_cast<size_t>(i)]) >= 0) low = i;
    low = std::min(low, n - 2);
    const double lo = logSigmas[static_cast<size_t>(low)], hi = logSigmas[static_cast<size_t>(low + 1)];
    const double w = std::clamp((lo - logSigma) / (lo - hi), 0.0, 1.0);
    return (1 - w) * static_cast<double>(low) + w * static_cast<double>(low + 1);
}

}  // namespace spyglass::core
