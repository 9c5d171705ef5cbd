#include "spyglass/steering.h"

#include "models/language_model_impl.h"
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

std::vector<float> factorDirectionVector(LanguageModel& model, const FactorSection& factors, int k)
{
    const ModelInfo& info = model.info();
    const int64_t neurons = info.mlpWidth, layers = static_cast<int64_t>(factors.layers.size());
    if (k < 0 || k >= factors.k)
        throw OptionError("factor", std::to_string(k) + " is outside 0 … " + std::to_string(factors.k - 1));
    if (factors.loadings.values.empty())
        throw OptionError("factor", "the report's factors carry no loadings (write them with analyze --save-loadings)");
    if (factors.loadings.shape != std::vector<int64_t>{factors.k, layers * neurons} ||
        static_cast<int64_t>(factors.loadings.values.size()) != factors.k * layers * neurons)
        throw OptionError("factor", "the report's loadings do not fit this model (" + std::to_string(layers) +
                                        " layers of " + std::to_string(neurons) + " neurons)");
    const CausalLm& lm = *model.impl().model;
    c10::InferenceMode guard;
    torch::Tensor v = torch::zeros({info.modelWidth}, torch::kFloat64);
    for (int64_t l = 0; l < layers; ++l) {
        const int layer = factors.layers[static_cast<size_t>(l)];
        if (layer < 0 || layer >= info.layerCount)
            throw OptionError("factor", "layer " + std::to_string(layer) + " is outside the model");
        const float* begin = factors.loadings.values.data() + (k * layers + l) * neurons;
        const torch::Tensor h =
            torch::from_blob(const_cast<float*>(begin), {neurons}, torch::kFloat32).to(torch::kFloat64);
        v += torch::matmul(h, lm.mlpDownProjection(layer).to(torch::kCPU, torch::kFloat64));  // [F] · [F, D]
    }
    const double norm = v.norm().item<double>();
    if (!(norm > 0))
        throw OptionError("factor", "factor " + std::to_string(k) + " writes nothing into the residual stream");
    v /= norm;
    const torch::Tensor out = v.to(torch::kFloat32).contiguous();
    return {out.data_ptr<float>(), out.data_ptr<float>() + out.numel()};
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
