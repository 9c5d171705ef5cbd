#include "spyglass/language_model.h"

#include "analysis/intervention_editor.h"
#include "models/language_model_impl.h"
#include "models/sampler.h"
#include "models/torch_weights.h"
#include "spyglass/error.h"
#include "spyglass/runtime.h"

namespace spyglass::core {

namespace {

torch::Tensor idsTensor(const std::vector<int>& ids, const torch::Device& device)
{
    std::vector<int64_t> wide(ids.begin(), ids.end());
    return torch::tensor(wide, torch::kInt64).view({1, static_cast<int64_t>(wide.size())}).to(device);
}

std::vector<float> lastRow(const torch::Tensor& logits)
{
    const torch::Tensor row =
        logits.select(0, 0).select(0, logits.size(1) - 1).to(torch::kCPU, torch::kFloat32).contiguous();
    return {row.data_ptr<float>(), row.data_ptr<float>() + row.numel()};
}

void checkIds(const std::vector<int>& ids, const ModelInfo& info)
{
    if (ids.empty()) throw Error("the prompt is empty: give at least one token");
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= info.vocabSize)
            throw Error("token id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                        " is outside the vocabulary (0 … " + std::to_string(info.vocabSize - 1) + ")");
    if (static_cast<int>(ids.size()) > info.contextLength)
        throw Error("the prompt has " + std::to_string(ids.size()) + " tokens but the model's context window is " +
                    std::to_string(info.contextLength) + " tokens; shorten the prompt");
}

}  // namespace

LanguageModel::LanguageModel(std::unique_ptr<LanguageModelImpl> impl) : m_impl(std::move(impl)) {}
LanguageModel::~LanguageModel() = default;

std::unique_ptr<LanguageModel> LanguageModel::load(const std::filesystem::path& path, const LoadOptions& options)
{
    return std::unique_ptr<LanguageModel>(new LanguageModel(loadLanguageModel(resolveModelPath(path), options)));
}

const ModelInfo& LanguageModel::info() const
{
    return m_impl->info;
}
const Tokenizer* LanguageModel::tokenizer() const
{
    return m_impl->tokenizer.get();
}

void LanguageModel::setInterventions(std::vector<Intervention> interventions)
{
    const ModelInfo& info = m_impl->info;
    validateInterventions(interventions, info.layerCount, info.headCount, info.mlpWidth, info.modelWidth);
    const bool any = std::any_of(interventions.begin(), interventions.end(), [](const auto& i) { return i.enabled; });
    m_impl->model->setEditor(any ? std::make_shared<InterventionEditor>(interventions, m_impl->model->device())
                                 : nullptr);
    m_impl->interventions = std::move(interventions);
}

const std::vector<Intervention>& LanguageModel::interventions() const
{
    return m_impl->interventions;
}

std::vector<int> LanguageModel::encode(const std::string& text) const
{
    if (!m_impl->tokenizer)
        throw Error("model '" + m_impl->info.path.string() +
                    "' has no tokenizer files (tokenizer.json or vocab.json + merges.txt); pass token ids instead");
    return m_impl->tokenizer->encode(text).ids;
}

GenerationResult LanguageModel::generate(const std::vector<int>& promptIds, const SamplingOptions& options,
                                         const ProgressCallback& progress, const std::function<void(int)>& onToken)
{
    const ModelInfo& info = m_impl->info;
    checkIds(promptIds, info);
    if (options.maxNewTokens < 0) throw Error("max new tokens must be ≥ 0");
    Sampler sampler(options);
    c10::InferenceMode guard;
    const CausalLm& model = *m_impl->model;
    GenerationResult result;
    result.promptIds = promptIds;
    std::vector<int> all = promptIds;
    auto report = [&](int done) {
        if (progress && !progress({"generating", done, options.maxNewTokens})) throw Cancelled();
    };
    if (options.maxNewTokens == 0) return result;
    if (static_cast<int>(all.size()) >= info.contextLength) {
        result.stoppedAtContextLimit = true;
        return result;
    }
    report(0);
    KvCache cache;
    ForwardOptions forward;
    forward.lastLogitsOnly = true;
    forward.cache = options.useKvCache ? &cache : nullptr;
    torch::Tensor logits = model.forward(idsTensor(all, model.device()), forward);
    for (int step = 0; step < options.maxNewTokens; ++step) {
        const int next = sampler.next(lastRow(logits));
        all.push_back(next);
        result.generatedIds.push_back(next);
        if (onToken) onToken(next);
        report(step + 1);
        if (options.stopAtEos && info.eosId && next == *info.eosId) {
            result.stoppedAtEos = true;
            break;
        }
        if (step + 1 == options.maxNewTokens) break;
        if (static_cast<int>(all.size()) >= info.contextLength) {
            result.stoppedAtContextLimit = true;
            break;
        }
        if (options.useKvCache) {
            forward.startPosition = static_cast<int64_t>(all.size()) - 1;
            logits = model.forward(idsTensor({next}, model.device()), forward);
        } else {
            logits = model.forward(idsTensor(all, model.device()), forward);
        }
    }
    return result;
}

HostTensor LanguageModel::attentionRow(const std::vector<int>& ids, int position)
{
    checkIds(ids, m_impl->info);
    if (position < 0 || position >= static_cast<int>(ids.size()))
        throw Error("position " + std::to_string(position) + " is outside the " + std::to_string(ids.size()) +
                    " tokens");
    c10::InferenceMode guard;
    ActivationCapture capture;
    capture.kinds = kCaptureAttnLastRow;
    ForwardOptions forward;
    forward.capture = &capture;
    forward.lastLogitsOnly = true;
    const std::vector<int> prefix(ids.begin(), ids.begin() + position + 1);
    (void)m_impl->model->forward(idsTensor(prefix, m_impl->model->device()), forward);
    std::vector<torch::Tensor> rows;
    for (int l = 0; l < m_impl->info.layerCount; ++l)
        rows.push_back(capture.tensors.at("attn_last_row." + std::to_string(l)).select(0, 0));  // [H, T]
    return toHost(torch::stack(rows));
}

std::map<std::string, HostTensor> LanguageModel::trace(const std::vector<int>& ids, uint32_t kinds)
{
    checkIds(ids, m_impl->info);
    c10::InferenceMode guard;
    ActivationCapture capture;
    capture.kinds = kinds;
    ForwardOptions forward;
    forward.capture = &capture;
    (void)m_impl->model->forward(idsTensor(ids, m_impl->model->device()), forward);
    std::map<std::string, HostTensor> out;
    for (const auto& [name, tensor] : capture.tensors) out.emplace(name, toHost(tensor.select(0, 0)));
    return out;
}

}  // namespace spyglass::core
