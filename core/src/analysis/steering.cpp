#include "spyglass/steering.h"

#include "spyglass/error.h"
#include "spyglass/safetensors.h"

namespace spyglass::core {

std::vector<float> meanDifferenceVector(LanguageModel& model, int layer, const std::vector<std::string>& positive,
                                        const std::vector<std::string>& negative)
{
    const ModelInfo& info = model.info();
    if (layer < 0 || layer >= info.layerCount)
        throw OptionError("layer", std::to_string(layer) + " is outside 0 … " + std::to_string(info.layerCount - 1));
    const std::string name = "resid_pre." + std::to_string(layer);
    auto meanOf = [&](const std::vector<std::string>& prompts, const char* which) {
        if (prompts.empty()) throw OptionError(which, "no prompts");
        std::vector<double> sum(static_cast<size_t>(info.modelWidth));
        int64_t count = 0;
        for (const std::string& prompt : prompts) {
            const auto ids = model.encode(prompt);
            const HostTensor r = model.trace(ids, kCaptureResidPre).at(name);  // [T, D]
            for (int64_t t = 0; t < r.shape[0]; ++t, ++count)
                for (int64_t d = 0; d < r.shape[1]; ++d)
                    sum[static_cast<size_t>(d)] += r.values[static_cast<size_t>(t * r.shape[1] + d)];
        }
        for (double& v : sum) v /= static_cast<double>(count);
        return sum;
    };
    const std::vector<double> a = meanOf(positive, "positive"), b = meanOf(negative, "negative");
    std::vector<float> out(a.size());
    for (size_t i = 0; i < a.size(); ++i) out[i] = static_cast<float>(a[i] - b[i]);
    return out;
}

void writeSteeringVector(const std::vector<float>& vector, const std::filesystem::path& path,
                         const std::string& description)
{
    SafetensorsWriter writer;
    writer.addFloat("vector", HostTensor{{static_cast<int64_t>(vector.size())}, vector});
    writer.setMetadata("description", description);
    writer.write(path);
}

}  // namespace spyglass::core
