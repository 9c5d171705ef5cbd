#pragma once
// Exports a view as a figure (PNG at a chosen DPI, SVG, PDF — chosen by the file suffix) and
// text as CSV. Plots (QCustomPlot) use their own vector export; other widgets are rendered.
// Writes go through QSaveFile, so a failed export never leaves a half-written file.
#include <QString>

class QWidget;

namespace spyglass::ui {

// Returns an empty string on success, else the reason (naming the file).
QString exportFigure(QWidget* widget, const QString& path, int dpi = 150);
QString exportText(const QString& text, const QString& path);
// A CSV field: quoted, inner quotes doubled.
QString csvField(QString text);

}  // namespace spyglass::ui
