#pragma once
// Scheduler — a diffusers noise scheduler (DDIM, Euler, Euler ancestral, PNDM) built from a
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

    // "ddim" | "euler" | "euler_a" | "pndm", or a diffusers class name (DDIMScheduler, …).
    // Throws Error naming the config file for an unknown class or an unsupported setting.
    static std::unique_ptr<Scheduler> create(const std::string& name, const ConfigReader& config);
    // The class named by the config's "_class_name".
    static std::unique_ptr<Scheduler> fromConfig(const ConfigReader& config);

    virtual void setTimesteps(int steps) = 0;
    // The timestep given to the UNet at each call (PNDM repeats one: steps + 1 calls).
    [[nodiscard]] const std::vector<double>& timesteps() const { return m_timesteps; }
    [[nodiscard]] virtual double initNoiseSigma() const { return 1.0; }
    [[nodiscard]] virtual torch::Tensor scaleModelInput(const torch::Tensor& x, size_t /*call*/) const { return x; }
    // The latents after UNet call `call` predicted `output` for `x`. `generator` feeds ancestral noise.
    [[nodiscard]] virtual torch::Tensor step(const torch::Tensor& output, size_t call, const torch::Tensor& x,
                                             at::Generator& generator) = 0;
    [[nodiscard]] virtual std::string className() const = 0;
    // Short name: ddim, euler, euler_a, pndm.
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
    // ᾱ[t] as a float32 0-dim tensor.
    [[nodiscard]] torch::Tensor alphaProduct(int64_t t) const { return m_alphasCumprod[t]; }

    Common m_common;
    torch::Tensor m_alphasCumprod;  // float32 [trainSteps]
    std::vector<double> m_timesteps;
};

}  // namespace spyglass::core
