#include "views/summary_view.h"

#include "views/figure_export.h"

#include "spyglass/error.h"

#include <qcustomplot.h>

#include <QFile>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace spyglass::ui {

SummaryView::SummaryView(QWidget* parent)
    : QWidget(parent),
      m_header(new QLabel),
      m_shares(new QTableWidget),
      m_factors(new QLabel),
      m_histogram(new QCustomPlot)
{
    auto* layout = new QVBoxLayout(this);
    m_header->setWordWrap(true);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_header);
    layout->addWidget(
        new QLabel(tr("<b>Saliency</b>: mean share of each generated token's saliency by context-token "
                      "class")));
    m_shares->setColumnCount(3);
    m_shares->setHorizontalHeaderLabels({tr("context tokens"), tr("mean share of saliency"), tr("tokens in contexts")});
    m_shares->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_shares->verticalHeader()->hide();
    m_shares->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_shares->setMaximumHeight(220);
    layout->addWidget(m_shares);
    m_factors->setWordWrap(true);
    m_factors->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_factors);
    m_histogram->setMinimumHeight(260);
    m_histogram->xAxis->setLabel(tr("first lens layer ranking the real next token first"));
    m_histogram->yAxis->setLabel(tr("positions"));
    layout->addWidget(m_histogram, 1);
}

SummaryView* SummaryView::window(QWidget* parent)
{
    auto* view = new SummaryView(parent);
    view->setWindowFlag(Qt::Window);
    view->setWindowTitle(tr("Dataset summary — Spyglass"));
    view->resize(900, 700);
    return view;
}

void SummaryView::setSummary(const core::DatasetSummary& s, const QString& source)
{
    m_summary = s;
    m_header->setText(tr("<b>%1</b><br>%2 reports · %3 prompt tokens · %4 generated tokens · saliency %5 over %6 rows")
                          .arg(source.toHtmlEscaped())
                          .arg(s.reports)
                          .arg(s.promptTokens)
                          .arg(s.generatedTokens)
                          .arg(QString::fromStdString(s.saliencyMethod).toHtmlEscaped())
                          .arg(s.saliencyRows));
    m_shares->setRowCount(0);
    auto addRow = [&](const QString& name, double share, const QString& tokens) {
        const int row = m_shares->rowCount();
        m_shares->insertRow(row);
        m_shares->setItem(row, 0, new QTableWidgetItem(name));
        m_shares->setItem(row, 1, new QTableWidgetItem(QStringLiteral("%1 %").arg(100 * share, 0, 'f', 1)));
        m_shares->setItem(row, 2, new QTableWidgetItem(tokens));
    };
    for (const auto& [cls, share] : s.shareByClass) {
        const auto n = s.contextTokensByClass.find(cls);
        addRow(QString::fromStdString(cls), share,
               n == s.contextTokensByClass.end() ? QStringLiteral("—") : QString::number(n->second));
    }
    addRow(tr("the first token (any class)"), s.firstTokenShare, QStringLiteral("—"));

    QStringList ks;
    for (const auto& [k, n] : s.reportsByK) ks << tr("k = %1: %2").arg(k).arg(n);
    m_factors->setText(s.factorReports == 0
                           ? tr("<b>Factors</b>: no report has factors")
                           : tr("<b>Factors</b>: %1 reports (%2) · mean relative error ‖X − WH‖/‖X‖ %3 · stability "
                                "mean %4, min %5, max %6")
                                 .arg(s.factorReports)
                                 .arg(ks.join(QStringLiteral(", ")))
                                 .arg(s.meanRelativeError, 0, 'f', 3)
                                 .arg(s.meanStability, 0, 'f', 2)
                                 .arg(s.minStability, 0, 'f', 2)
                                 .arg(s.maxStability, 0, 'f', 2));

    m_histogram->clearPlottables();
    auto* bars = new QCPBars(m_histogram->xAxis, m_histogram->yAxis);
    QSharedPointer<QCPAxisTickerText> ticks(new QCPAxisTickerText);
    QVector<double> keys, values;
    double largest = 1;
    for (size_t i = 0; i < s.lensLayers.size(); ++i) {
        keys << static_cast<double>(i);
        values << s.firstCorrectLayer[i];
        largest = std::max(largest, static_cast<double>(s.firstCorrectLayer[i]));
        ticks->addTick(static_cast<double>(i), QString::fromStdString(s.lensLayers[i]));
    }
    bars->setData(keys, values);
    bars->setBrush(QColor(33, 102, 172, 170));
    bars->setPen(Qt::NoPen);
    bars->setWidth(0.7);
    m_histogram->xAxis->setTicker(ticks);
    m_histogram->xAxis->setTickLabelRotation(s.lensLayers.size() > 12 ? 60 : 0);
    m_histogram->xAxis->setRange(-0.6, std::max<double>(0, static_cast<double>(s.lensLayers.size()) - 1) + 0.6);
    m_histogram->yAxis->setRange(0, largest * 1.1);
    m_histogram->replot();
}

QString SummaryView::open(const QString& path)
{
    const QFileInfo info(path);
    try {
        if (info.isDir()) {
            std::vector<std::string> skipped;
            setSummary(core::summarizeFolder(path.toStdString(), &skipped),
                       tr("%1 (summarized here%2)")
                           .arg(info.absoluteFilePath(),
                                skipped.empty() ? QString()
                                                : tr(", %1 files that are not reports skipped").arg(skipped.size())));
        } else {
            QFile file(path);
            if (!file.open(QIODevice::ReadOnly)) return tr("%1: cannot be read").arg(path);
            setSummary(core::parseSummaryJson(file.readAll().toStdString(), path.toStdString()),
                       info.absoluteFilePath());
        }
        show();
        raise();
        return {};
    } catch (const core::Error& e) {
        return QString::fromStdString(e.what());
    }
}

QString SummaryView::exportFigure(const QString& path)
{
    return ui::exportFigure(this, path);
}

}  // namespace spyglass::ui
