#pragma once
// Exports a view as a figure (PNG at a chosen DPI, SVG, PDF — chosen by the file suffix) and
// text as CSV. The figure is the widget drawn below a title block (FigureCaption), always in the
// light palette so a figure exported from a dark desktop still prints on white paper.
// Writes go through QSaveFile, so a failed export never leaves a half-written file.
#include "views/figure_caption.h"

#include <QImage>
#include <QString>

class QWidget;

namespace spyglass::ui {

// Returns an empty string on success, else the reason (naming the file). An empty caption
// draws no title block.
QString exportFigure(QWidget* widget, const QString& path, int dpi = 150, const FigureCaption& caption = {});
// The same figure as an image (PNG export, copy to clipboard).
[[nodiscard]] QImage renderFigure(QWidget* widget, int dpi = 150, const FigureCaption& caption = {});
QString exportText(const QString& text, const QString& path);
// A CSV field: quoted, inner quotes doubled.
QString csvField(QString text);

}  // namespace spyglass::ui
