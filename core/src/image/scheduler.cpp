#include "image/scheduler.h"

#include "image/ddim_scheduler.h"
#include "image/euler_scheduler.h"
#include "image/pndm_scheduler.h"
#include "spyglass/error.h"

#include <cmath>

namespace spyglass::core {

std::unique_ptr<Scheduler> Scheduler::create(const std::string& name, const ConfigReader& config)
{
    if (name == "ddim" || name == "DDIMScheduler") return std::make_unique<DdimScheduler>(config);
    if (name == "euler" || name == "EulerDiscreteScheduler") return std::make_unique<EulerScheduler>(config, false);
    if (name == "euler_a" || name == "EulerAncestralDiscreteScheduler")
        return std::make_unique<EulerScheduler>(config, true);
    if (name == "pndm" || name == "PNDMScheduler") return std::make_unique<PndmScheduler>(config);
    throw Error(config.path().string() + ": scheduler '" + name + "' is not supported (ddim, euler, euler_a, pndm)");
}

std::unique_ptr<Scheduler> Scheduler::fromConfig(const ConfigReader& config)
{
    if (!config.has("_class_name")) config.fail("has no \"_class_name\" to say which scheduler it configures");
    return create(config.string("_class_name", ""), config);
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

}  // namespace spyglass::core
