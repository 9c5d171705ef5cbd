#pragma once
// DiffusionRequest — one image generation of the Image tab, and its result as shared data.
#include "spyglass/diffusion.h"

#include <QMetaType>
#include <QString>

#include <memory>

namespace spyglass::ui {

struct DiffusionRequest {
    quint64 id = 0;
    QString modelPath;
    core::DiffusionLoadOptions load;  // LoRAs (and single-file options)
    QString device = QStringLiteral("cpu");
    int threads = 1;
    core::DiffusionOptions options;
};

using DiffusionResultPtr = std::shared_ptr<const core::DiffusionResult>;

}  // namespace spyglass::ui

Q_DECLARE_METATYPE(spyglass::ui::DiffusionResultPtr)
