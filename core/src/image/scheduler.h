#pragma once
// Scheduler — a diffusers noise scheduler (DDIM, Euler, Euler ancestral, PNDM, DPM-Solver) built from a
// scheduler_config.json the way diffusers' from_config does: the keys the class knows are taken,
// the class's own defaults fill the rest. Per-step scalars are float32 0-dim tensors, as in
// diffusers, so trajectories match to the last bits that float32 allows.
// Thread safety: one scheduler per generation (step() keeps multistep state).
#include "image/config_reader.h"

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace spyglass::core {

class Scheduler {
public:
    virtual ~Scheduler() = default;

    // A name of spyglass/scheduler_names.h (short, diffusers class or A1111 sampler name) built
    // from `config` as diffusers' from_config does, with the name's overrides (use_karras_sigmas,
    // DPM++ 2M's algorithm) and `spacing` (leading | linspace | trailing; empty: the config's).
    // Throws Error naming the config file for an unknown name or an unsupported setting.
    static std::unique_ptr<Scheduler> create(const std::string& name, const ConfigReader& config,
                                             const std::string& spacing = {});
    // The class named by the config's "_class_name".
    static std::unique_ptr<Scheduler> fromConfig(const ConfigReader& config, const std::string& spacing = {});

    virtual void setTimesteps(int steps) = 0;
    // The timestep given to the UNet at each call (PNDM repeats one: steps + 1 calls).
    [[nodiscard]] const std::vector<double>& timesteps() const { return m_timesteps; }
    [[nodiscard]] virtual double initNoiseSigma() const { return 1.0; }
    [[nodiscard]] virtual torch::Tensor scaleModelInput(const torch::Tensor& x, size_t /*call*/) const { return x; }
    // The latents after UNet call `call` predicted `output` for `x`. `generator` feeds ancestral noise.
    [[nodiscard]] virtual torch::Tensor step(const torch::Tensor& output, size_t call, const torch::Tensor& x,
                                             at::Generator& generator) = 0;
    [[nodiscard]] virtual std::string className() const = 0;
    // Short name: ddim, euler, euler_karras, euler_a, pndm, dpmpp_2m, dpmpp_2m_karras (dpm_solver for
    // other DPM-Solver settings).
    [[nodiscard]] virtual std::string shortName() const = 0;

protected:
    struct Common {
        int64_t trainSteps = 1000;
        double betaStart = 0.0001, betaEnd = 0.02;
        std::string betaSchedule = "linear";
        std::vector<double> trainedBetas;
        std::string prediction = "epsilon";
        int64_t stepsOffset = 0;
        std::string spacing;  // leading | linspace | trailing
    };
    // Reads the shared keys; `defaultSpacing` is the class default of timestep_spacing.
    void readCommon(const ConfigReader& c, const std::string& defaultSpacing);
    // σ = ((1 − ᾱ) / ᾱ)^½ over the training steps, in float32 as diffusers computes it.
    [[nodiscard]] std::vector<float> trainingSigmas() const;
    [[nodiscard]] static std::vector<float> logOf(const std::vector<float>& values);
    // diffusers' _convert_to_karras (ρ = 7) from in_sigmas[0] = `first` to in_sigmas[-1] = `last`.
    [[nodiscard]] static std::vector<double> karrasSigmas(double first, double last, int steps);
    // diffusers' _sigma_to_t: the fractional timestep of σ, interpolated linearly in log σ between the
    // neighbouring entries of `logSigmas` (ascending, float32).
    [[nodiscard]] static double sigmaToT(double sigma, const std::vector<float>& logSigmas);
    // ᾱ[t] as a float32 0-dim tensor.
    [[nodiscard]] torch::Tensor alphaProduct(int64_t t) const { return m_alphasCumprod[t]; }

    Common m_common;
    torch::Tensor m_alphasCumprod;  // float32 [trainSteps]
    std::vector<double> m_timesteps;
};

}  // namespace spyglass::core
