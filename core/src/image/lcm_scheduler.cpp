#include "image/lcm_scheduler.h"

#include "spyglass/error.h"

#include <cmath>

namespace spyglass::core {

LcmScheduler::LcmScheduler(const ConfigReader& c)
{
    readCommon(c, "leading");
    m_originalSteps = c.integer("original_inference_steps", 50);
    if (m_originalSteps < 1 || m_originalSteps > m_common.trainSteps)
        c.fail("original_inference_steps must be between 1 and num_train_timesteps");
    m_timestepScaling = c.number("timestep_scaling", 10.0);
    m_clipSample = c.boolean("clip_sample", false);
    m_clipRange = c.number("clip_sample_range", 1.0);
    if (c.boolean("thresholding", false)) c.fail("thresholding is not supported by LCMScheduler here");
    if (c.boolean("rescale_betas_zero_snr", false)) c.fail("rescale_betas_zero_snr is not supported");
    m_finalAlpha = c.boolean("set_alpha_to_one", true) ? torch::tensor(1.0F) : alphaProduct(0);
}

void LcmScheduler::setTimesteps(int steps)
{
    if (steps < 1 || steps > m_originalSteps)
        throw Error("LCM: steps must be between 1 and original_inference_steps (" + std::to_string(m_originalSteps) +
                    ")");
    const int64_t k = m_common.trainSteps / m_originalSteps;
    std::vector<int64_t> origin;  // the distillation schedule, descending
    for (int64_t i = m_originalSteps; i >= 1; --i) origin.push_back(i * k - 1);
    m_timesteps.clear();
    const auto length = static_cast<double>(origin.size());
    for (int j = 0; j < steps; ++j) {
        // np.floor(np.linspace(0, len, steps, endpoint=False))
        const auto index = static_cast<size_t>(std::floor(j * (length / steps)));
        m_timesteps.push_back(static_cast<double>(origin[index]));
    }
}

torch::Tensor LcmScheduler::step(const torch::Tensor& output, size_t call, const torch::Tensor& x,
                                 at::Generator& generator)
{
    const auto t = static_cast<int64_t>(m_timesteps.at(call));
    const bool last = call + 1 >= m_timesteps.size();
    const int64_t prev = last ? t : static_cast<int64_t>(m_timesteps[call + 1]);
    const torch::Tensor a = alphaProduct(t).to(x.device());
    const torch::Tensor aPrev = (prev >= 0 ? alphaProduct(prev) : m_finalAlpha).to(x.device());
    const torch::Tensor beta = 1 - a;
    // The boundary-condition scalings in float32, as diffusers computes them from the integer timestep.
    const torch::Tensor scaled = torch::tensor(static_cast<float>(static_cast<double>(t) * m_timestepScaling));
    const float sigmaData2 = 0.25F;
    const torch::Tensor skip = sigmaData2 / (scaled.pow(2) + sigmaData2);
    const torch::Tensor out = scaled / (scaled.pow(2) + sigmaData2).pow(0.5);
    torch::Tensor x0 = m_common.prediction == "epsilon" ? (x - beta.pow(0.5) * output) / a.pow(0.5)
                                                        : a.pow(0.5) * x - beta.pow(0.5) * output;
    if (m_clipSample) x0 = x0.clamp(-m_clipRange, m_clipRange);
    const torch::Tensor denoised = out.to(x.device()) * x0 + skip.to(x.device()) * x;
    if (last) return denoised;
    const torch::Tensor noise =
        at::randn(output.sizes(), generator, torch::TensorOptions().dtype(torch::kFloat32)).to(x.device());
    return aPrev.pow(0.5) * denoised + (1 - aPrev).pow(0.5) * noise;
}

}  // namespace spyglass::core
