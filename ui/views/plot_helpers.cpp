#include "views/plot_helpers.h"

#include <qcustomplot.h>

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
