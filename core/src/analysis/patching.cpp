#include "spyglass/patching.h"

#include "models/activation_editor.h"
#include "models/language_model_impl.h"
#include "spyglass/error.h"

namespace spyglass::core {

namespace {

EditSite editSiteOf(PatchSite site)
{
    switch (site) {
        case PatchSite::ResidPre:
            return EditSite::ResidPre;
        case PatchSite::AttnOut:
            return EditSite::AttnOut;
        case PatchSite::MlpOut:
            return EditSite::MlpOut;
        case PatchSite::Head:
            return EditSite::HeadOut;
    }
    return EditSite::ResidPre;
}

// Row 0 of the batch is the clean run and the source of every patch; row b takes the clean
// values where mask[b] is true (mask [B, T] for positions, [B, H] for heads).
class PatchEditor final : public ActivationEditor {
public:
    PatchEditor(EditSite site, int layer, torch::Tensor mask) : m_site(site), m_layer(layer), m_mask(std::move(mask)) {}
    [[nodiscard]] bool edits(EditSite site, int layer) const override { return site == m_site && layer == m_layer; }
    [[nodiscard]] torch::Tensor edit(EditSite site, int /*layer*/, const torch::Tensor& x,
                                     int64_t /*startPosition*/) const override
    {
        const torch::Tensor clean = x.narrow(0, 0, 1);
        const torch::Tensor mask =
            site == EditSite::HeadOut ? m_mask.view({m_mask.size(0), 1, m_mask.size(1), 1}) : m_mask.unsqueeze(-1);
        return torch::where(mask, clean, x);
    }

private:
    EditSite m_site;
    int m_layer;
    torch::Tensor m_mask;
};

void checkPrompt(const std::vector<int>& ids, const ModelInfo& info, const char* which)
{
    if (ids.empty()) throw OptionError(which, "the prompt is empty");
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= info.vocabSize)
            throw OptionError(which, "token id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                                         " is outside the vocabulary (0 … " + std::to_string(info.vocabSize - 1) + ")");
    if (static_cast<int>(ids.size()) > info.contextLength)
        throw OptionError(which, std::to_string(ids.size()) + " tokens exceed the model's context window of " +
                                     std::to_string(info.contextLength));
}

}  // namespace

PatchResult patchActivations(LanguageModel& model, const std::vector<int>& cleanIds, const std::vector<int>& corruptIds,
                             const PatchOptions& options, const ProgressCallback& progress)
{
    const ModelInfo& info = model.info();
    checkPrompt(cleanIds, info, "clean");
    checkPrompt(corruptIds, info, "corrupt");
    if (cleanIds.size() != corruptIds.size())
        throw OptionError("corrupt", "the clean prompt has " + std::to_string(cleanIds.size()) +
                                         " tokens and the corrupt one " + std::to_string(corruptIds.size()) +
                                         "; patching needs prompts of equal token length");
    for (const auto& [name, id] : {std::pair{"answer", options.answer}, std::pair{"wrong", options.wrong}})
        if (id < 0 || id >= info.vocabSize)
            throw OptionError(name, "token id " + std::to_string(id) + " is outside the vocabulary");
    if (options.answer == options.wrong) throw OptionError("wrong", "the answer and the wrong token are the same");
    if (options.batch < 1) throw OptionError("batch", "must be ≥ 1");

    const CausalLm& lm = *model.impl().model;
    const torch::Device device = lm.device();
    c10::InferenceMode guard;
    const int64_t length = static_cast<int64_t>(cleanIds.size());
    const torch::Tensor clean = torch::tensor(std::vector<int64_t>(cleanIds.begin(), cleanIds.end())).view({1, -1});
    const torch::Tensor corrupt =
        torch::tensor(std::vector<int64_t>(corruptIds.begin(), corruptIds.end())).view({1, -1});
    const int64_t columns = options.site == PatchSite::Head ? info.headCount : length;

    PatchResult result;
    result.site = options.site;
    for (int64_t c = 0; c < columns; ++c) result.positions.push_back(static_cast<int>(c));
    auto report = [&](int done) {
        if (progress && !progress({"patching", done, info.layerCount})) throw Cancelled();
    };
    bool first = true;
    for (int layer = 0; layer < info.layerCount; ++layer) {
        report(layer);
        result.layers.push_back(layer);
        std::vector<double> metrics(static_cast<size_t>(columns)), effects(static_cast<size_t>(columns));
        double whole = 0;
        // Columns c = 0 … columns−1, then −1 for "all at once"; each chunk also runs clean and corrupt.
        std::vector<int64_t> todo;
        for (int64_t c = 0; c < columns; ++c) todo.push_back(c);
        todo.push_back(-1);
        for (size_t begin = 0; begin < todo.size(); begin += static_cast<size_t>(options.batch)) {
            const size_t count = std::min(todo.size() - begin, static_cast<size_t>(options.batch));
            const int64_t rows = static_cast<int64_t>(count) + 2;
            torch::Tensor mask = torch::zeros({rows, columns}, torch::kBool);
            std::vector<torch::Tensor> ids{clean, corrupt};
            for (size_t i = 0; i < count; ++i) {
                const int64_t c = todo[begin + i];
                if (c < 0)
                    mask[static_cast<int64_t>(i) + 2].fill_(true);
                else
                    mask[static_cast<int64_t>(i) + 2][c] = true;
                ids.push_back(corrupt);
            }
            const PatchEditor editor(editSiteOf(options.site), layer, mask.to(device));
            ForwardOptions forward;
            forward.lastLogitsOnly = true;
            forward.editor = &editor;
            const torch::Tensor last = lm.forward(torch::cat(ids, 0).to(device), forward).select(1, 0);
            const torch::Tensor m = (last.select(1, options.answer) - last.select(1, options.wrong))
                                        .to(torch::kCPU, torch::kFloat64)
                                        .contiguous();
            const double* values = m.data_ptr<double>();
            const double mClean = values[0], mCorrupt = values[1];
            if (first) {
                result.cleanMetric = mClean;
                result.corruptMetric = mCorrupt;
                if (!(mClean != mCorrupt))
                    throw OptionError("corrupt", "the clean and corrupt runs give the same metric (" +
                                                     std::to_string(mClean) + "): no effect can be measured");
                first = false;
            }
            for (size_t i = 0; i < count; ++i) {
                const double e = (values[i + 2] - mCorrupt) / (mClean - mCorrupt);
                const int64_t c = todo[begin + i];
                if (c < 0) {
                    whole = e;
                } else {
                    metrics[static_cast<size_t>(c)] = values[i + 2];
                    effects[static_cast<size_t>(c)] = e;
                }
            }
        }
        result.metric.push_back(std::move(metrics));
        result.effect.push_back(std::move(effects));
        result.wholeLayerEffect.push_back(whole);
    }
    report(info.layerCount);
    return result;
}

int tokenArgument(const LanguageModel& model, const std::string& text, const std::string& field)
{
    if (text.size() > 1 && text[0] == '#' && text.find_first_not_of("0123456789", 1) == std::string::npos) {
        if (text.size() > 10) throw OptionError(field, "bad token id '" + text + "'");
        const long long id = std::stoll(text.substr(1));
        if (id >= model.info().vocabSize)
            throw OptionError(field, "token id " + text.substr(1) + " is outside the vocabulary (0 … " +
                                         std::to_string(model.info().vocabSize - 1) + ")");
        return static_cast<int>(id);
    }
    std::vector<int> ids = model.encode(text);
    const auto& bos = model.info().bosId;
    if (ids.size() > 1 && bos && ids.front() == *bos) ids.erase(ids.begin());
    if (ids.size() != 1)
        throw OptionError(field, "'" + text + "' is " + std::to_string(ids.size()) +
                                     " tokens; give one token (e.g. with its leading space) or its id as #ID");
    return ids.front();
}

}  // namespace spyglass::core
