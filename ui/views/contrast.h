#pragma once
// Text colours that stay readable on coloured cells in light and dark palettes (WCAG contrast).
#include <QColor>

namespace spyglass::ui {

// `background` as it appears when drawn (with its alpha) over `underneath`.
[[nodiscard]] QColor composited(const QColor& background, const QColor& underneath);
// WCAG 2 contrast ratio of two opaque colours (1 … 21).
[[nodiscard]] double contrastRatio(const QColor& a, const QColor& b);
// Black or white, whichever contrasts more with `background` drawn over `underneath`.
[[nodiscard]] QColor readableTextOn(const QColor& background, const QColor& underneath = Qt::white);

}  // namespace spyglass::ui
