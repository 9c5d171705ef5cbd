#include "views/plot_helpers.h"

#include <qcustomplot.h>

#include <algorithm>

namespace spyglass::ui {

QImage imageFromRgb(const std::vector<uint8_t>& rgb, int width, int height)
{
    return QImage(rgb.data(), width, height, width * 3, QImage::Format_RGB888).copy();
}

void placeLegendBeside(QCustomPlot* plot)
{
    plot->legend->setVisible(true);
    auto* column = new QCPLayoutGrid;
    plot->plotLayout()->addElement(0, 1, column);
    column->addElement(0, 0, plot->legend);
    column->addElement(1, 0, new QCPLayoutElement(plot));
    column->setRowStretchFactor(1, 1.0);
    plot->plotLayout()->setColumnStretchFactor(1, 0.001);
}

QColor saliencyColour(double share, double max)
{
    const double t = max > 0 ? std::clamp(share / max, 0.0, 1.0) : 0.0;
    QColor c = QColor::fromHsvF(0.07, 0.85, 0.95);  // warm orange
    c.setAlphaF(0.08 + 0.9 * t);
    return c;
}

QCPColorGradient divergingGradient()
{
    QCPColorGradient g;
    g.setColorStopAt(0, QColor(33, 102, 172));
    g.setColorStopAt(0.5, QColor(247, 247, 247));
    g.setColorStopAt(1, QColor(178, 24, 43));
    g.setLevelCount(256);
    return g;
}

}  // namespace spyglass::ui
