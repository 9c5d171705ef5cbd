#include "image/pndm_scheduler.h"

#include "spyglass/error.h"

#include <cmath>

namespace spyglass::core {

PndmScheduler::PndmScheduler(const ConfigReader& c)
{
    readCommon(c, "leading");
    m_skipPrk = c.boolean("skip_prk_steps", false);
    m_finalAlpha = c.boolean("set_alpha_to_one", false) ? torch::tensor(1.0F) : alphaProduct(0);
}

void PndmScheduler::setTimesteps(int steps)
{
    const int64_t n = m_common.trainSteps;
    if (steps < 1 || steps > n) throw Error("steps must be between 1 and " + std::to_string(n));
    if (!m_skipPrk && steps < 4) throw Error("PNDM with PRK steps needs at least 4 steps");
    m_steps = steps;
    std::vector<int64_t> base;  // ascending
    if (m_common.spacing == "linspace") {
        for (int i = 0; i < steps; ++i)
            base.push_back(static_cast<int64_t>(std::nearbyint(steps == 1 ? 0.0
                                                               : i == steps - 1
                                                                   ? static_cast<double>(n - 1)
                                                                   : i * (static_cast<double>(n - 1) / (steps - 1)))));
    } else if (m_common.spacing == "leading") {
        for (int i = 0; i < steps; ++i) base.push_back(i * (n / steps) + m_common.stepsOffset);
    } else {
        const double ratio = static_cast<double>(n) / steps;
        for (int i = steps - 1; i >= 0; --i)
            base.push_back(static_cast<int64_t>(std::nearbyint(static_cast<double>(n) - i * ratio)) - 1);
    }
    std::vector<int64_t> calls;
    m_prkTimesteps.clear();
    if (m_skipPrk) {
        // plms = concat(ts[:-1], ts[-2:-1], ts[-1:])[::-1]
        std::vector<int64_t> plms(base.begin(), base.end() - 1);
        if (base.size() >= 2) plms.push_back(base[base.size() - 2]);
        plms.push_back(base.back());
        calls.assign(plms.rbegin(), plms.rend());
    } else {
        const int64_t half = n / steps / 2;
        std::vector<int64_t> prk;  // ts[-4:].repeat(2) + tile([0, half], 4)
        for (size_t i = base.size() - 4; i < base.size(); ++i) {
            prk.push_back(base[i]);
            prk.push_back(base[i] + half);
        }
        std::vector<int64_t> doubled;  // prk[:-1].repeat(2)[1:-1], reversed
        for (size_t i = 0; i + 1 < prk.size(); ++i) {
            doubled.push_back(prk[i]);
            doubled.push_back(prk[i]);
        }
        m_prkTimesteps.assign(doubled.rbegin() + 1, doubled.rend() - 1);
        calls = m_prkTimesteps;
        for (size_t i = base.size() - 3; i-- > 0;) calls.push_back(base[i]);
    }
    m_timesteps.assign(calls.begin(), calls.end());
    m_counter = 0;
    m_ets.clear();
    m_curSample.reset();
    m_curOutput = torch::Tensor();
}

torch::Tensor PndmScheduler::previous(const torch::Tensor& x, int64_t t, int64_t prev, torch::Tensor output) const
{
    const torch::Tensor a = alphaProduct(t).to(x.device());
    const torch::Tensor aPrev = (prev >= 0 ? alphaProduct(prev) : m_finalAlpha).to(x.device());
    const torch::Tensor beta = 1 - a;
    const torch::Tensor betaPrev = 1 - aPrev;
    if (m_common.prediction == "v_prediction") output = a.pow(0.5) * output + beta.pow(0.5) * x;
    const torch::Tensor sampleCoefficient = (aPrev / a).pow(0.5);
    const torch::Tensor denominator = a * betaPrev.pow(0.5) + (a * beta * aPrev).pow(0.5);
    return sampleCoefficient * x - (aPrev - a) * output / denominator;
}

torch::Tensor PndmScheduler::step(const torch::Tensor& output, size_t call, const torch::Tensor& x,
                                  at::Generator& /*generator*/)
{
    const auto t = static_cast<int64_t>(m_timesteps.at(call));
    if (!m_skipPrk && m_counter < static_cast<int>(m_prkTimesteps.size())) return stepPrk(output, t, x);
    return stepPlms(output, t, x);
}

torch::Tensor PndmScheduler::stepPrk(const torch::Tensor& output, int64_t t, const torch::Tensor& x)
{
    const int64_t diff = m_counter % 2 ? 0 : m_common.trainSteps / m_steps / 2;
    const int64_t prev = t - diff;
    const int64_t timestep = m_prkTimesteps[static_cast<size_t>(m_counter / 4 * 4)];
    torch::Tensor out = output;
    if (!m_curOutput.defined()) m_curOutput = torch::zeros_like(output);
    if (m_counter % 4 == 0) {
        m_curOutput = m_curOutput + output / 6;
        m_ets.push_back(output);
        m_curSample = x;
    } else if ((m_counter - 1) % 4 == 0 || (m_counter - 2) % 4 == 0) {
        m_curOutput = m_curOutput + output / 3;
    } else {
        out = m_curOutput + output / 6;
        m_curOutput = torch::zeros_like(output);
    }
    const torch::Tensor sample = m_curSample ? *m_curSample : x;
    ++m_counter;
    return previous(sample, timestep, prev, out);
}

torch::Tensor PndmScheduler::stepPlms(const torch::Tensor& output, int64_t t, torch::Tensor x)
{
    int64_t timestep = t;
    int64_t prev = t - m_common.trainSteps / m_steps;
    if (m_counter != 1) {
        if (m_ets.size() > 3) m_ets.erase(m_ets.begin(), m_ets.end() - 3);
        m_ets.push_back(output);
    } else {
        prev = t;
        timestep = t + m_common.trainSteps / m_steps;
    }
    torch::Tensor e;
    if (m_ets.size() == 1 && m_counter == 0) {
        e = output;
        m_curSample = x;
    } else if (m_ets.size() == 1 && m_counter == 1) {
        e = (output + m_ets.back()) / 2;
        x = *m_curSample;
        m_curSample.reset();
    } else if (m_ets.size() == 2) {
        e = (3 * m_ets[1] - m_ets[0]) / 2;
    } else if (m_ets.size() == 3) {
        e = (23 * m_ets[2] - 16 * m_ets[1] + 5 * m_ets[0]) / 12;
    } else {
        e = (1.0 / 24) * (55 * m_ets[3] - 59 * m_ets[2] + 37 * m_ets[1] - 9 * m_ets[0]);
    }
    ++m_counter;
    return previous(x, timestep, prev, e);
}

}  // namespace spyglass::core
