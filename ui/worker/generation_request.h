#pragma once
// GenerationRequest — what the GUI asks the inference thread to do. A plain value type.
#include "spyglass/language_model.h"

#include <QString>

namespace spyglass::ui {

struct GenerationRequest {
    quint64 id = 0;  // assigned by InferenceService::submit
    QString modelPath;
    QString device = QStringLiteral("cpu");
    int threads = 1;
    QString prompt;
    core::SamplingOptions sampling;
};

}  // namespace spyglass::ui
