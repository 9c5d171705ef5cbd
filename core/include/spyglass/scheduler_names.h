#pragma once
// Scheduler names as people write them: Spyglass's short names, diffusers class names, and the
// sampler names of AUTOMATIC1111 / Forge ("DPM++ 2M Karras", "Euler a", …, with A1111's separate
// "Schedule type"), each mapped to a diffusers scheduler class and the config keys it overrides —
// the mapping diffusers documents for A1111 users. The numbers are diffusers' (A1111 samples with
// k-diffusion: an image will be close to A1111's, not identical).
// Thread safety: pure functions.
#include <optional>
#include <string>
#include <vector>

namespace spyglass::core {

struct SchedulerChoice {
    std::string className;       // DDIMScheduler, EulerDiscreteScheduler, …
    std::string shortName;       // ddim, euler, euler_karras, euler_a, pndm, dpmpp_2m, dpmpp_2m_karras
    std::optional<bool> karras;  // use_karras_sigmas set (else the config's)
    bool dpmPlusPlus2M = false;  // algorithm_type dpmsolver++, solver_order 2, solver_type midpoint
};

// `name`: a short name, a class name or an A1111 sampler name (case and spaces ignored);
// `scheduleType`: A1111's "Schedule type" (Automatic, Karras, Uniform; empty = Automatic).
// nullopt when either is not known.
[[nodiscard]] std::optional<SchedulerChoice> parseSchedulerName(const std::string& name,
                                                                const std::string& scheduleType = {});
// The short names, for menus and messages.
[[nodiscard]] const std::vector<std::string>& schedulerShortNames();
// "ddim, euler, …, or an A1111 name such as "DPM++ 2M Karras"" — for error messages.
[[nodiscard]] std::string schedulerNamesText();
// Timestep spacings a config may be switched to (leading, linspace, trailing).
[[nodiscard]] bool isTimestepSpacing(const std::string& spacing);

}  // namespace spyglass::core
