#include "spyglass/analysis.h"

#include "analysis/progress_prefix.h"
#include "spyglass/error.h"
#include "spyglass/intervention.h"

namespace spyglass::core {

namespace {

// Sets the model's interventions aside for the scope's lifetime.
class NoInterventions {
public:
    explicit NoInterventions(LanguageModel& model) : m_model(model), m_saved(model.interventions())
    {
        model.setInterventions({});
    }
    ~NoInterventions()
    {
        try {
            m_model.setInterventions(m_saved);  // validated when they were set: cannot fail
        } catch (...) {
        }
    }
    NoInterventions(const NoInterventions&) = delete;
    NoInterventions& operator=(const NoInterventions&) = delete;

private:
    LanguageModel& m_model;
    std::vector<Intervention> m_saved;
};

}  // namespace

InterventionEffect analyzeInterventionEffect(LanguageModel& model, const std::string& prompt,
                                             const AnalysisOptions& options, const ProgressCallback& progress,
                                             const AnalysisObserver& observer)
{
    bool any = !options.interventionSpecs.empty();
    for (const Intervention& in : model.interventions()) any = any || in.enabled;
    if (!any) throw OptionError("interventions", "there is no intervention to compare with the baseline");
    validateAnalysisOptions(options, model.info());

    InterventionEffect out;
    out.edited = analyze(model, prompt, options, prefixedProgress(progress, "with interventions"), observer);

    AnalysisOptions light = options;  // the comparison reads saliency, the lens and log-probs only
    light.factors = false;
    light.projection = false;
    {
        const NoInterventions none(model);
        AnalysisOptions plain = light;
        plain.interventionSpecs.clear();
        out.baseline = analyze(model, prompt, plain, prefixedProgress(progress, "baseline"));
    }
    std::vector<int> baselineIds;
    for (const auto& t : out.baseline.tokens)
        if (t.generated) baselineIds.push_back(t.id);
    std::vector<int> editedIds;
    for (const auto& t : out.edited.tokens)
        if (t.generated) editedIds.push_back(t.id);
    if (editedIds == baselineIds) {
        out.forced = out.edited;  // same tokens: the edited run already is the forced one
    } else {
        light.continuation = baselineIds;
        light.maxNewTokens = 0;  // no baseline tokens (EOS or the window at once): the prompt only
        out.forced = analyze(model, prompt, light, prefixedProgress(progress, "forced along the baseline"));
    }
    out.diff = diffRuns(out.baseline, out.edited, out.forced);
    return out;
}

}  // namespace spyglass::core
