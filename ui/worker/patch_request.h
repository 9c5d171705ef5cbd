#pragma once
// PatchRequest — one activation-patching run of the Patching tab, and what comes back: the
// engine's result plus the token texts the heatmap labels its columns with.
#include "spyglass/patching.h"

#include <QMetaType>
#include <QString>
#include <QStringList>

#include <memory>
#include <string>
#include <vector>

namespace spyglass::ui {

struct PatchRequest {
    quint64 id = 0;
    QString modelPath;
    QString device = QStringLiteral("cpu");
    int threads = 1;
    QString clean, corrupt;  // prompts of equal token length
    QString answer, wrong;   // one token each (text, or #ID)
    core::PatchSite site = core::PatchSite::ResidPre;
    std::vector<std::string> interventions;  // specs applied to every run (intervention.h)
};

struct PatchOutcome {
    PatchRequest request;
    core::PatchResult result;
    QStringList cleanTokens, corruptTokens;
    int answer = 0, wrong = 0;
    QString answerText, wrongText;
    QString architecture;
};

using PatchOutcomePtr = std::shared_ptr<const PatchOutcome>;

}  // namespace spyglass::ui

Q_DECLARE_METATYPE(spyglass::ui::PatchOutcomePtr)
