#pragma once
// InterventionScope — a run's own interventions (AnalysisOptions::interventionSpecs, or the ones a
// report recorded) set on the model on top of its own for the scope's lifetime, then restored.
#include "spyglass/intervention.h"
#include "spyglass/language_model.h"

#include <string>
#include <vector>

namespace spyglass::core {

class InterventionScope {
public:
    // Throws as parseInterventions() and LanguageModel::setInterventions() do.
    InterventionScope(LanguageModel& model, const std::vector<std::string>& specs) : m_model(model)
    {
        if (specs.empty()) return;
        m_saved = model.interventions();
        std::vector<Intervention> all = m_saved;
        for (Intervention& in : parseInterventions(specs)) all.push_back(std::move(in));
        model.setInterventions(std::move(all));
        m_active = true;
    }
    ~InterventionScope()
    {
        if (!m_active) return;
        try {
            m_model.setInterventions(m_saved);  // validated before: cannot fail
        } catch (...) {
        }
    }
    InterventionScope(const InterventionScope&) = delete;
    InterventionScope& operator=(const InterventionScope&) = delete;

private:
    LanguageModel& m_model;
    std::vector<Intervention> m_saved;
    bool m_active = false;
};

}  // namespace spyglass::core
