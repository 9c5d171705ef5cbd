#include "views/projection_view.h"

#include "views/factors_view.h"
#include "views/plot_helpers.h"
#include "views/token_selection.h"
#include "views/token_strip.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QToolTip>
#include <QVBoxLayout>

#include <set>

namespace spyglass::ui {

ProjectionView::ProjectionView(TokenSelection* selection, QWidget* parent)
    : QWidget(parent),
      m_selection(selection),
      m_plot(new QCustomPlot),
      m_caption(new QLabel),
      m_layer(new QSpinBox),
      m_source(new QComboBox),
      m_recompute(new QPushButton(tr("Recompute")))
{
    setWindowTitle(tr("Activation map"));
    m_source->addItem(tr("MLP activations"), static_cast<int>(core::ProjectionSource::MlpAct));
    m_source->addItem(tr("residual stream"), static_cast<int>(core::ProjectionSource::Resid));
    auto* top = new QHBoxLayout;
    top->addWidget(m_caption, 1);
    top->addWidget(new QLabel(tr("layer")));
    top->addWidget(m_layer);
    top->addWidget(m_source);
    top->addWidget(m_recompute);
    connect(m_recompute, &QPushButton::clicked, this, [this] {
        emit reprojectRequested(m_layer->value(), static_cast<core::ProjectionSource>(m_source->currentData().toInt()));
    });
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_plot, 1);
    placeLegendBeside(m_plot);
    m_plot->xAxis->setLabel(tr("PC 1"));
    m_plot->yAxis->setLabel(tr("PC 2"));
    connect(m_plot, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) {
        const int i = nearest(e->position());
        if (i >= 0) {
            const auto& t = m_report->tokens[static_cast<size_t>(i)];
            const auto it = m_report->tokenTexts.find(t.id);
            QToolTip::showText(
                e->globalPosition().toPoint(),
                tr("“%1” (position %2, cluster %3)")
                    .arg(it == m_report->tokenTexts.end() ? QString::number(t.id)
                                                          : QString::fromStdString(it->second).toHtmlEscaped())
                    .arg(i)
                    .arg(m_report->projection->clusters[static_cast<size_t>(i)]),
                m_plot);
        } else {
            QToolTip::hideText();
        }
    });
    connect(m_plot, &QCustomPlot::mousePress, this, [this](QMouseEvent* e) {
        const int i = nearest(e->position());
        if (i >= 0) m_selection->select(i);
    });
    connect(m_selection, &TokenSelection::positionChanged, this, [this] { showSelection(); });
}

int ProjectionView::pointCount() const
{
    return m_report && m_report->projection ? static_cast<int>(m_report->projection->points.size()) : 0;
}

int ProjectionView::nearest(const QPointF& pixel) const
{
    int best = -1;
    double bestDistance = 12.0 * 12.0;  // pixels
    for (int i = 0; i < pointCount(); ++i) {
        const auto& p = m_report->projection->points[static_cast<size_t>(i)];
        const double dx = m_plot->xAxis->coordToPixel(p[0]) - pixel.x(),
                     dy = m_plot->yAxis->coordToPixel(p[1]) - pixel.y();
        if (dx * dx + dy * dy < bestDistance) {
            bestDistance = dx * dx + dy * dy;
            best = i;
        }
    }
    return best;
}

void ProjectionView::setRecomputing(bool busy)
{
    m_recompute->setEnabled(!busy);
    m_recompute->setText(busy ? tr("Computing…") : tr("Recompute"));
}

void ProjectionView::setReport(const ReportPtr& report)
{
    m_report = report;
    setRecomputing(false);
    m_layer->setRange(0, std::max(0, report->model.layerCount - 1));
    if (report->projection) {
        m_layer->setValue(report->projection->layer);
        m_source->setCurrentIndex(std::max(0, m_source->findData(static_cast<int>(report->projection->source))));
    }
    m_plot->clearGraphs();
    m_plot->clearItems();
    m_selected = nullptr;
    if (!report->projection) {
        m_plot->replot();
        return;
    }
    const auto& proj = *report->projection;
    const std::set<int> clusters(proj.clusters.begin(), proj.clusters.end());
    for (int c : clusters) {
        QCPGraph* g = m_plot->addGraph();
        g->setName(tr("cluster %1").arg(c));
        g->setLineStyle(QCPGraph::lsNone);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc,
                                           FactorsView::factorColour(c, static_cast<int>(clusters.size())), 9));
        for (size_t i = 0; i < proj.points.size(); ++i)
            if (proj.clusters[i] == c) g->addData(proj.points[i][0], proj.points[i][1]);
    }
    // Token labels next to the points.
    for (size_t i = 0; i < proj.points.size(); ++i) {
        auto* label = new QCPItemText(m_plot);
        const auto it = report->tokenTexts.find(report->tokens[i].id);
        label->setText(it == report->tokenTexts.end() ? QString::number(report->tokens[i].id)
                                                      : TokenStrip::label(QString::fromStdString(it->second)));
        label->position->setCoords(proj.points[i][0], proj.points[i][1]);
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
        label->setPadding(QMargins(4, 0, 0, 2));
        label->setFont(QFont(font().family(), 8));
        label->setColor(report->tokens[i].generated ? QColor(40, 90, 200) : QColor(60, 60, 60));
    }
    m_selected = m_plot->addGraph();
    m_selected->setName(tr("selected"));
    m_selected->setLineStyle(QCPGraph::lsNone);
    m_selected->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(Qt::black, 2), Qt::NoBrush, 16));
    m_caption->setText(tr("PCA of %1 at layer %2 (explained variance %3% + %4%), clusters: %5")
                           .arg(QString::fromStdString(core::nameString(proj.source)))
                           .arg(proj.layer)
                           .arg(100.0 * proj.explainedVariance[0], 0, 'f', 1)
                           .arg(100.0 * proj.explainedVariance[1], 0, 'f', 1)
                           .arg(QString::fromStdString(core::nameString(proj.clusterMethod))));
    m_plot->rescaleAxes();
    m_plot->xAxis->scaleRange(1.15);
    m_plot->yAxis->scaleRange(1.15);
    showSelection();
}

void ProjectionView::showSelection()
{
    if (!m_selected) return;
    m_selected->data()->clear();
    const int p = m_selection->position();
    if (p >= 0 && p < pointCount())
        m_selected->addData(m_report->projection->points[static_cast<size_t>(p)][0],
                            m_report->projection->points[static_cast<size_t>(p)][1]);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

QString ProjectionView::toCsv() const
{
    QString csv = QStringLiteral("position,token_id,x,y,cluster\n");
    for (int i = 0; i < pointCount(); ++i) {
        const auto& p = m_report->projection->points[static_cast<size_t>(i)];
        csv += QStringLiteral("%1,%2,%3,%4,%5\n")
                   .arg(i)
                   .arg(m_report->tokens[static_cast<size_t>(i)].id)
                   .arg(p[0], 0, 'g', 8)
                   .arg(p[1], 0, 'g', 8)
                   .arg(m_report->projection->clusters[static_cast<size_t>(i)]);
    }
    return csv;
}

}  // namespace spyglass::ui
