#pragma once
// FigureCaption — the title block above an exported figure: what the view shows (method, mode,
// layers) and what produced it (model, prompt, decoding, Spyglass version), from the report alone,
// so the app and `spyglass-cli render` print the same block.
#include "spyglass/report.h"

#include <QString>

namespace spyglass::ui {

struct FigureCaption {
    QString title;     // e.g. "Input saliency — grad_x_input (prob)"
    QString subtitle;  // e.g. "gpt2 · model-folder · sha256 1a2b3c… · “1, 2, 3,” + 8 tokens, greedy"
};

// `view`: saliency, lens, factors or projection.
[[nodiscard]] FigureCaption figureCaption(const core::Report& report, const QString& view);

}  // namespace spyglass::ui
