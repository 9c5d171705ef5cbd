#pragma once
// Small helpers shared by the plot views.
class QCustomPlot;

namespace spyglass::ui {

// Moves the plot's legend into its own column right of the axes, so it never hides data.
void placeLegendBeside(QCustomPlot* plot);

}  // namespace spyglass::ui
