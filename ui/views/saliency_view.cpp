#include "views/saliency_view.h"

#include "views/plot_helpers.h"

#include "views/figure_export.h"

#include "views/token_selection.h"
#include "views/token_strip.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

namespace spyglass::ui {

SaliencyView::SaliencyView(TokenSelection* selection, QWidget* parent)
    : QWidget(parent),
      m_selection(selection),
      m_method(new QComboBox),
      m_caption(new QLabel),
      m_strip(new TokenStrip),
      m_plot(new QCustomPlot)
{
    setWindowTitle(tr("Input saliency"));
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Method:")));
    top->addWidget(m_method);
    top->addWidget(m_caption, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_strip);
    layout->addWidget(m_plot, 1);
    m_plot->setMinimumHeight(220);
    m_plot->axisRect()->setupFullAxesBox(true);
    m_plot->xAxis->setLabel(tr("context token"));
    m_plot->yAxis->setLabel(tr("generated token"));
    m_plot->yAxis->setRangeReversed(true);
    m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    m_map->setInterpolate(false);
    auto* scale = new QCPColorScale(m_plot);
    m_plot->plotLayout()->addElement(0, 1, scale);
    scale->setLabel(tr("% of the attribution"));
    m_map->setColorScale(scale);
    QCPColorGradient gradient(QCPColorGradient::gpHot);
    gradient.setLevelCount(256);
    gradient = gradient.inverted();                            // white (0) … dark red (max)
    gradient.setNanHandling(QCPColorGradient::nhTransparent);  // cells after the row's token stay empty
    m_map->setGradient(gradient);
    auto* margins = new QCPMarginGroup(m_plot);
    m_plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    m_method->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    connect(m_method, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
    connect(m_strip, &TokenStrip::tokenClicked, m_selection, &TokenSelection::select);
    connect(m_strip, &TokenStrip::tokenHovered, m_selection, &TokenSelection::select);  // hovering selects too
    connect(m_selection, &TokenSelection::positionChanged, this, [this](int p) {
        if (p >= 0 && p < static_cast<int>(m_generated.size()) && m_generated[static_cast<size_t>(p)]) m_shownRow = p;
        refresh();
    });
    connect(m_plot, &QCustomPlot::mousePress, this, [this](QMouseEvent* e) {
        const int row = static_cast<int>(std::lround(m_plot->yAxis->pixelToCoord(e->position().y())));
        const int method = std::max(0, m_method->currentIndex());
        if (method < static_cast<int>(m_rows.size()) && row >= 0 &&
            row < static_cast<int>(m_rows[static_cast<size_t>(method)].size()))
            m_selection->select(m_rows[static_cast<size_t>(method)][static_cast<size_t>(row)].position);
    });
}

void SaliencyView::startLive(const QStringList& methods, const QStringList& promptTokens)
{
    m_method->blockSignals(true);
    m_method->clear();
    m_method->addItems(methods);
    m_method->blockSignals(false);
    m_tokens = promptTokens;
    m_generated.assign(static_cast<size_t>(promptTokens.size()), false);
    m_rows.assign(static_cast<size_t>(methods.size()), {});
    m_shownRow = -1;
    refresh();
}

void SaliencyView::addLiveRow(int method, const QString& tokenText, const core::SaliencyRow& row)
{
    if (method < 0 || method >= static_cast<int>(m_rows.size())) return;
    if (row.position >= m_tokens.size()) {
        m_tokens.append(tokenText);
        m_generated.push_back(true);
    }
    m_rows[static_cast<size_t>(method)].push_back(row);
    m_shownRow = row.position;  // follow the newest token while generating
    refresh();
}

void SaliencyView::setReport(const ReportPtr& report)
{
    QStringList methods;
    for (const auto& s : report->saliency)
        methods << QString::fromStdString(core::nameString(s.method) + " (" + core::nameString(s.target) + ")");
    const QString current = m_method->currentText();
    m_method->blockSignals(true);
    m_method->clear();
    m_method->addItems(methods);
    m_method->setCurrentIndex(std::max(0, static_cast<int>(methods.indexOf(current))));
    m_method->blockSignals(false);
    m_tokens.clear();
    m_generated.clear();
    for (const auto& t : report->tokens) {
        const auto it = report->tokenTexts.find(t.id);
        m_tokens << (t.text                           ? QString::fromStdString(*t.text)
                     : it != report->tokenTexts.end() ? QString::fromStdString(it->second)
                                                      : QString::number(t.id));
        m_generated.push_back(t.generated);
    }
    m_rows.clear();
    for (const auto& s : report->saliency) m_rows.push_back(s.rows);
    if (m_shownRow < 0 && !m_rows.empty() && !m_rows.front().empty()) m_shownRow = m_rows.front().front().position;
    refresh();
}

int SaliencyView::rowCount(int method) const
{
    return method >= 0 && method < static_cast<int>(m_rows.size())
               ? static_cast<int>(m_rows[static_cast<size_t>(method)].size())
               : 0;
}

const core::SaliencyRow* SaliencyView::rowFor(int position) const
{
    const int method = m_method->currentIndex();
    if (method < 0 || method >= static_cast<int>(m_rows.size())) return nullptr;
    for (const auto& row : m_rows[static_cast<size_t>(method)])
        if (row.position == position) return &row;
    return nullptr;
}

void SaliencyView::refresh()
{
    const core::SaliencyRow* row = rowFor(m_shownRow);
    QVector<TokenStrip::Token> tokens;
    double max = 0;
    if (row)
        for (float s : row->scores) max = std::max<double>(max, s);
    for (int i = 0; i < m_tokens.size(); ++i) {
        TokenStrip::Token t;
        t.text = m_tokens[i];
        t.generated = m_generated[static_cast<size_t>(i)];
        if (row && i < static_cast<int>(row->scores.size())) {
            t.background = saliencyColour(row->scores[static_cast<size_t>(i)], max);
            t.toolTip = tr("%1: %2% of the attribution for “%3”")
                            .arg(m_tokens[i].toHtmlEscaped())
                            .arg(100.0 * row->scores[static_cast<size_t>(i)], 0, 'f', 2)
                            .arg(m_tokens.value(row->position).toHtmlEscaped());
        } else if (row && i == row->position) {
            t.background = QColor(80, 140, 230, 90);
            t.toolTip = tr("the generated token being explained");
        }
        tokens.append(t);
    }
    m_strip->setTokens(tokens);
    m_strip->setSelected(m_selection->position());
    m_caption->setText(row ? tr("explaining “%1” at position %2 — colour: share of the attribution, 0 … max of the row")
                                 .arg(TokenStrip::label(m_tokens.value(row->position)).toHtmlEscaped())
                                 .arg(row->position)
                           : tr("no generated token yet"));

    // Heatmap: generated rows × context columns.
    const int method = m_method->currentIndex();
    const auto* rows =
        method >= 0 && method < static_cast<int>(m_rows.size()) ? &m_rows[static_cast<size_t>(method)] : nullptr;
    const int columns = std::max(1, static_cast<int>(m_tokens.size()) - 1);
    const int height = rows ? std::max(1, static_cast<int>(rows->size())) : 1;
    m_map->data()->setSize(columns, height);
    m_map->data()->setRange(QCPRange(0, columns - 1), QCPRange(0, height - 1));
    m_map->data()->fill(qQNaN());
    QSharedPointer<QCPAxisTickerText> xTicks(new QCPAxisTickerText), yTicks(new QCPAxisTickerText);
    for (int c = 0; c < columns && c < m_tokens.size(); ++c) xTicks->addTick(c, TokenStrip::label(m_tokens[c]));
    if (rows) {
        for (int r = 0; r < static_cast<int>(rows->size()); ++r) {
            const auto& scores = (*rows)[static_cast<size_t>(r)].scores;
            for (int c = 0; c < static_cast<int>(scores.size()) && c < columns; ++c)
                m_map->data()->setCell(c, r, 100.0 * scores[static_cast<size_t>(c)]);
            yTicks->addTick(r, TokenStrip::label(m_tokens.value((*rows)[static_cast<size_t>(r)].position)));
        }
    }
    m_plot->xAxis->setTicker(xTicks);
    m_plot->xAxis->setTickLabelRotation(60);
    m_plot->yAxis->setTicker(yTicks);
    m_map->setDataRange(QCPRange(0, 100));
    m_map->rescaleDataRange(true);
    m_plot->xAxis->setRange(-0.5, columns - 0.5);
    m_plot->yAxis->setRange(-0.5, height - 0.5);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

QString SaliencyView::toCsv() const
{
    QString csv = QStringLiteral("method,generated_position,generated_token,context_position,context_token,share\n");
    for (int m = 0; m < static_cast<int>(m_rows.size()); ++m)
        for (const auto& row : m_rows[static_cast<size_t>(m)])
            for (size_t i = 0; i < row.scores.size(); ++i)
                csv += QStringLiteral("%1,%2,%3,%4,%5,%6\n")
                           .arg(csvField(m_method->itemText(m)))
                           .arg(row.position)
                           .arg(csvField(m_tokens.value(row.position)))
                           .arg(i)
                           .arg(csvField(m_tokens.value(static_cast<int>(i))))
                           .arg(row.scores[i], 0, 'g', 8);
    return csv;
}

}  // namespace spyglass::ui
