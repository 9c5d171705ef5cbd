#include "spyglass/scheduler_names.h"

#include <algorithm>
#include <cctype>

namespace spyglass::core {

namespace {

// Lower case, spaces / '_' / '-' removed: "DPM++ 2M Karras" → "dpm++2mkarras".
std::string squeeze(const std::string& s)
{
    std::string out;
    for (char c : s)
        if (c != ' ' && c != '_' && c != '-' && c != '\t')
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

SchedulerChoice choice(const std::string& className, const std::string& shortName, std::optional<bool> karras,
                       bool dpm = false)
{
    return {className, shortName, karras, dpm};
}

}  // namespace

const std::vector<std::string>& schedulerShortNames()
{
    static const std::vector<std::string> names{"ddim",     "euler",           "euler_karras", "euler_a",
                                                "dpmpp_2m", "dpmpp_2m_karras", "pndm",         "lcm"};
    return names;
}

std::string schedulerNamesText()
{
    std::string s;
    for (const auto& n : schedulerShortNames()) s += (s.empty() ? "" : ", ") + n;
    return s + ", a diffusers class name, or an A1111 sampler name such as \"DPM++ 2M Karras\" or \"Euler a\"";
}

bool isTimestepSpacing(const std::string& spacing)
{
    return spacing == "leading" || spacing == "linspace" || spacing == "trailing";
}

std::optional<SchedulerChoice> parseSchedulerName(const std::string& name, const std::string& scheduleType)
{
    std::string n = squeeze(name);
    const std::string type = squeeze(scheduleType);
    std::optional<bool> karras;
    if (type == "karras") {
        karras = true;
    } else if (type == "uniform" || type == "normal") {
        karras = false;
    } else if (!type.empty() && type != "automatic") {
        return std::nullopt;
    }
    // A1111's older names carry the schedule: "DPM++ 2M Karras", "Euler Karras".
    bool suffixKarras = false;
    for (const std::string suffix : {"karras"}) {
        if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
            n.erase(n.size() - suffix.size());
            suffixKarras = true;
        }
    }
    if (suffixKarras) {
        if (karras == false) return std::nullopt;  // "DPM++ 2M Karras" with "Schedule type: Uniform"
        karras = true;
    }
    if (n == "ddim" || n == "ddimscheduler") {
        if (karras == true) return std::nullopt;
        return choice("DDIMScheduler", "ddim", std::nullopt);
    }
    if (n == "pndm" || n == "plms" || n == "pndmscheduler") {
        if (karras == true) return std::nullopt;
        return choice("PNDMScheduler", "pndm", std::nullopt);
    }
    if (n == "eulera" || n == "eulerancestral" || n == "eulerancestraldiscretescheduler") {
        if (karras == true) return std::nullopt;
        return choice("EulerAncestralDiscreteScheduler", "euler_a", std::nullopt);
    }
    if (n == "euler" || n == "eulerdiscretescheduler") {
        const bool k = karras.value_or(false);
        // A class name keeps the config's setting unless a schedule type was given.
        const std::optional<bool> set = n == "euler" || karras ? std::optional<bool>(k) : std::nullopt;
        return choice("EulerDiscreteScheduler", k ? "euler_karras" : "euler", set);
    }
    if (n == "dpm++2m" || n == "dpmpp2m") {
        // As diffusers' table for A1111 users: "DPM++ 2M" without Karras, "DPM++ 2M Karras" with.
        const bool k = karras.value_or(false);
        return choice("DPMSolverMultistepScheduler", k ? "dpmpp_2m_karras" : "dpmpp_2m", k, true);
    }
    if (n == "lcm" || n == "lcmscheduler") {
        if (karras == true) return std::nullopt;
        return choice("LCMScheduler", "lcm", std::nullopt);
    }
    if (n == "dpmsolvermultistepscheduler") {
        return choice("DPMSolverMultistepScheduler", karras.value_or(false) ? "dpmpp_2m_karras" : "dpmpp_2m", karras);
    }
    return std::nullopt;
}

}  // namespace spyglass::core
