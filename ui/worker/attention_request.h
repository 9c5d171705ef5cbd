#pragma once
// AttentionRequest — the attention of one token of a report over its context, per layer and head
// (core::LanguageModel::attentionRow), asked for when the Attention view's selection changes.
#include "spyglass/host_tensor.h"

#include <QMetaType>
#include <QString>

#include <memory>
#include <string>
#include <vector>

namespace spyglass::ui {

struct AttentionRequest {
    quint64 id = 0;
    QString modelPath;
    QString device = QStringLiteral("cpu");
    int threads = 1;
    std::vector<int> ids;                    // the report's tokens
    int position = 0;                        // the query token
    std::vector<std::string> interventions;  // the report's own (settings.interventions)
};

struct AttentionOutcome {
    int position = 0;
    core::HostTensor weights;  // [layers, heads, position + 1]
};

using AttentionOutcomePtr = std::shared_ptr<const AttentionOutcome>;

}  // namespace spyglass::ui

Q_DECLARE_METATYPE(spyglass::ui::AttentionOutcomePtr)
