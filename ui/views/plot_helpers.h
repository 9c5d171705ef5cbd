#pragma once
// Small helpers shared by the views (plots, images).
#include <QColor>
#include <QImage>

#include <cstdint>
#include <vector>

class QCPColorGradient;
class QCustomPlot;

namespace spyglass::ui {

// RGB bytes (width·height·3) as a QImage that owns its pixels.
[[nodiscard]] QImage imageFromRgb(const std::vector<uint8_t>& rgb, int width, int height);

// Moves the plot's legend into its own column right of the axes, so it never hides data.
void placeLegendBeside(QCustomPlot* plot);

// A saliency share as the saliency view colours it: warm orange, opacity by share / max.
[[nodiscard]] QColor saliencyColour(double share, double max);

// Blue (−) · white (0) · red (+): for signed differences and effects.
[[nodiscard]] QCPColorGradient divergingGradient();

}  // namespace spyglass::ui
