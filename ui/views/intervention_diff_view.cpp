#include "views/intervention_diff_view.h"

#include "views/figure_export.h"
#include "views/plot_helpers.h"
#include "views/token_selection.h"

#include <qcustomplot.h>
#include <QLabel>
#include <QVBoxLayout>

#include <cmath>

namespace spyglass::ui {

namespace {

QString tokenText(const core::ReportToken& t)
{
    return t.text ? QString::fromStdString(*t.text) : QStringLiteral("#%1").arg(t.id);
}

// Tokens as HTML; from `diverge` on they are highlighted, the first one underlined.
QString tokensHtml(const std::vector<core::ReportToken>& tokens, std::optional<int> diverge, const QString& colour)
{
    QString html;
    for (int i = 0; i < static_cast<int>(tokens.size()); ++i) {
        QString piece =
            tokenText(tokens[static_cast<size_t>(i)]).toHtmlEscaped().replace(' ', QStringLiteral("&nbsp;"));
        if (diverge && i >= *diverge)
            piece = QStringLiteral("<span style=\"background:%1;%2\">%3</span>")
                        .arg(colour, i == *diverge ? QStringLiteral("text-decoration:underline;font-weight:bold") : "",
                             piece);
        html += piece;
    }
    return html.isEmpty() ? QObject::tr("(nothing)") : html;
}

QCPColorMap* divergingMap(QCustomPlot* plot, const QString& label)
{
    plot->axisRect()->setupFullAxesBox(true);
    plot->yAxis->setRangeReversed(true);
    auto* map = new QCPColorMap(plot->xAxis, plot->yAxis);
    map->setInterpolate(false);
    auto* scale = new QCPColorScale(plot);
    plot->plotLayout()->addElement(0, 1, scale);
    scale->setLabel(label);
    map->setColorScale(scale);
    QCPColorGradient gradient = divergingGradient();
    gradient.setNanHandling(QCPColorGradient::nhTransparent);  // cells with no value (after a row's token)
    map->setGradient(gradient);
    auto* margins = new QCPMarginGroup(plot);
    plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    return map;
}

// Symmetric data range around 0 (white), at least `floor` wide.
void symmetricRange(QCPColorMap* map, double largest, double floor)
{
    const double r = std::max(largest, floor);
    map->setDataRange(QCPRange(-r, r));
}

QSharedPointer<QCPAxisTickerText> labelTicks(const QStringList& labels, int first = 0)
{
    QSharedPointer<QCPAxisTickerText> ticks(new QCPAxisTickerText);
    for (int i = 0; i < labels.size(); ++i) ticks->addTick(first + i, labels[i]);
    return ticks;
}

}  // namespace

InterventionDiffView::InterventionDiffView(TokenSelection* selection, QWidget* parent)
    : QWidget(parent),
      m_selection(selection),
      m_texts(new QLabel),
      m_logProb(new QCustomPlot),
      m_saliency(new QCustomPlot),
      m_lens(new QCustomPlot)
{
    setWindowTitle(tr("Interventions: what changed"));
    m_texts->setWordWrap(true);
    m_texts->setTextFormat(Qt::RichText);
    m_texts->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_logProb->setMinimumHeight(120);
    m_logProb->yAxis->setLabel(tr("Δ log p"));
    m_logProb->xAxis->setLabel(tr("token the baseline generated"));
    m_saliency->setMinimumHeight(150);
    m_saliency->xAxis->setLabel(tr("position"));
    m_saliency->yAxis->setLabel(tr("explained token"));
    m_saliencyMap = divergingMap(m_saliency, tr("Δ saliency"));
    m_lens->setMinimumHeight(150);
    m_lens->xAxis->setLabel(tr("position"));
    m_lens->yAxis->setLabel(tr("layer"));
    m_lensMap = divergingMap(m_lens, tr("Δ p(next)"));
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_texts);
    layout->addWidget(m_logProb, 2);
    layout->addWidget(m_saliency, 3);
    layout->addWidget(m_lens, 3);
    for (QCustomPlot* plot : {m_saliency, m_lens})
        connect(plot, &QCustomPlot::mousePress, this, [this, plot](QMouseEvent* e) {
            const int p = static_cast<int>(std::lround(plot->xAxis->pixelToCoord(e->position().x())));
            if (m_diff && p >= 0 && p < static_cast<int>(m_diff->prompt.size() + m_diff->baseline.size()))
                m_selection->select(p);
        });
    refresh();
}

void InterventionDiffView::setDiff(const RunDiffPtr& diff)
{
    m_diff = diff;
    refresh();
}

QString InterventionDiffView::textsHtml() const
{
    return m_texts->text();
}

void InterventionDiffView::refresh()
{
    m_logProb->clearPlottables();
    m_saliencyMap->data()->clear();
    m_lensMap->data()->clear();
    if (!m_diff) {
        m_texts->setText(
            tr("<p>This run had no interventions. Add some under <b>Interventions</b> in the settings, or "
               "right-click a factor, an attention head or a lens cell → <b>Ablate and rerun</b>: this tab then "
               "shows what they changed against the same run without them.</p>"));
        for (QCustomPlot* plot : {m_logProb, m_saliency, m_lens}) plot->replot();
        return;
    }
    const core::RunDiff& d = *m_diff;
    QString prompt;
    for (const auto& t : d.prompt) prompt += tokenText(t);
    QStringList specs;
    for (const auto& s : d.interventions) specs << QString::fromStdString(s);
    const QString verdict =
        d.firstDivergence ? tr("the text changes at generated token %1").arg(*d.firstDivergence + 1)
                          : tr("the same tokens — the differences below are in probabilities and attributions only");
    m_texts->setText(tr("<p><b>Interventions:</b> %1 — %2.</p>"
                        "<table cellspacing=4><tr><td><b>Baseline</b></td><td>%3<b>%4</b></td></tr>"
                        "<tr><td><b>With interventions</b></td><td>%3<b>%5</b></td></tr></table>")
                         .arg(specs.join(QStringLiteral(" ")).toHtmlEscaped(), verdict,
                              prompt.toHtmlEscaped().replace(' ', QStringLiteral("&nbsp;")),
                              tokensHtml(d.baseline, d.firstDivergence, QStringLiteral("#e0e0e0")),
                              tokensHtml(d.edited, d.firstDivergence, QStringLiteral("#fddbc7"))));

    const int promptLength = static_cast<int>(d.prompt.size());
    const int generated = static_cast<int>(d.baseline.size());
    QStringList generatedLabels;
    for (const auto& t : d.baseline) generatedLabels << tokenText(t);
    QStringList positionLabels;
    for (const auto& t : d.prompt) positionLabels << tokenText(t);
    positionLabels << generatedLabels;

    // Δ log-prob: one bar per baseline token, red where the interventions made it likelier.
    auto* bars = new QCPBars(m_logProb->xAxis, m_logProb->yAxis);
    QVector<double> keys, values;
    double largest = 0;
    for (int i = 0; i < generated; ++i) {
        keys << i;
        values << d.deltaLogProb[static_cast<size_t>(i)];
        largest = std::max(largest, std::abs(values.back()));
    }
    bars->setData(keys, values);
    bars->setBrush(QColor(33, 102, 172, 170));
    bars->setPen(Qt::NoPen);
    bars->setWidth(0.7);
    m_logProb->xAxis->setTicker(labelTicks(generatedLabels));
    m_logProb->xAxis->setTickLabelRotation(generated > 12 ? 60 : 0);
    m_logProb->xAxis->setRange(-0.6, std::max(0, generated - 1) + 0.6);
    m_logProb->yAxis->setRange(-std::max(largest, 1e-3) * 1.1, std::max(largest, 1e-3) * 1.1);
    m_logProb->replot();

    // Δ saliency: rows are the baseline's generated tokens (the first method the runs share).
    const int positions = promptLength + generated;
    if (!d.saliency.empty() && !d.saliency.front().delta.empty()) {
        const core::SaliencyDelta& s = d.saliency.front();
        const int rows = static_cast<int>(s.delta.size());
        m_saliencyMap->data()->setSize(positions, rows);
        m_saliencyMap->data()->setRange(QCPRange(0, positions - 1), QCPRange(0, std::max(1, rows - 1)));
        double big = 0;
        for (int r = 0; r < rows; ++r)
            for (int p = 0; p < positions; ++p) {
                const auto& row = s.delta[static_cast<size_t>(r)];
                const double v = p < static_cast<int>(row.size()) ? row[static_cast<size_t>(p)] : std::nan("");
                m_saliencyMap->data()->setCell(p, r, v);
                if (std::isfinite(v)) big = std::max(big, std::abs(v));
            }
        symmetricRange(m_saliencyMap, big, 1e-4);
        m_saliency->yAxis->setTicker(labelTicks(generatedLabels.mid(0, rows)));
        m_saliency->yAxis->setRange(-0.5, rows - 0.5);
        m_saliency->yAxis->setLabel(tr("explained token"));
        m_saliencyMap->colorScale()->setLabel(
            tr("Δ saliency (%1)").arg(QString::fromStdString(core::nameString(s.method))));
    }
    m_saliency->xAxis->setTicker(labelTicks(positionLabels));
    m_saliency->xAxis->setTickLabelRotation(60);
    m_saliency->xAxis->setRange(-0.5, positions - 0.5);
    m_saliency->replot();

    // Δ lens: the probability each layer gives the token that comes next.
    if (!d.lensLayers.empty()) {
        const int layers = static_cast<int>(d.lensLayers.size());
        const int columns = static_cast<int>(d.lensDeltaProb.front().size());
        m_lensMap->data()->setSize(columns, layers);
        m_lensMap->data()->setRange(QCPRange(0, std::max(1, columns - 1)), QCPRange(0, std::max(1, layers - 1)));
        double big = 0;
        for (int l = 0; l < layers; ++l)
            for (int p = 0; p < columns; ++p) {
                const double v = d.lensDeltaProb[static_cast<size_t>(l)][static_cast<size_t>(p)];
                m_lensMap->data()->setCell(p, l, v);
                if (std::isfinite(v)) big = std::max(big, std::abs(v));
            }
        symmetricRange(m_lensMap, big, 1e-4);
        QStringList layerLabels;
        for (const auto& name : d.lensLayers) layerLabels << QString::fromStdString(name);
        m_lens->yAxis->setTicker(labelTicks(layerLabels));
        m_lens->yAxis->setRange(-0.5, layers - 0.5);
        m_lens->xAxis->setTicker(labelTicks(positionLabels));
        m_lens->xAxis->setTickLabelRotation(60);
        m_lens->xAxis->setRange(-0.5, columns - 0.5);
    }
    m_lens->replot();
}

QString InterventionDiffView::toCsv() const
{
    QString out = QStringLiteral("section,row,column,baseline,edited,delta\n");
    if (!m_diff) return out;
    const core::RunDiff& d = *m_diff;
    auto label = [](const core::ReportToken& t) { return csvField(tokenText(t)); };
    for (size_t i = 0; i < d.baseline.size(); ++i)
        out += QStringLiteral("logprob,%1,%2,%3,%4,%5\n")
                   .arg(i)
                   .arg(label(d.baseline[i]))
                   .arg(d.baselineLogProb[i], 0, 'g', 9)
                   .arg(d.editedLogProb[i], 0, 'g', 9)
                   .arg(d.deltaLogProb[i], 0, 'g', 9);
    for (const auto& s : d.saliency)
        for (size_t r = 0; r < s.delta.size(); ++r)
            for (size_t p = 0; p < s.delta[r].size(); ++p)
                out += QStringLiteral("saliency:%1,%2,%3,,,%4\n")
                           .arg(QString::fromStdString(core::nameString(s.method)))
                           .arg(s.positions[r])
                           .arg(p)
                           .arg(s.delta[r][p], 0, 'g', 9);
    for (size_t l = 0; l < d.lensDeltaProb.size(); ++l)
        for (size_t p = 0; p < d.lensDeltaProb[l].size(); ++p)
            if (std::isfinite(d.lensDeltaProb[l][p]))
                out += QStringLiteral("lens_next_prob,%1,%2,,,%3\n")
                           .arg(QString::fromStdString(d.lensLayers[l]))
                           .arg(p)
                           .arg(d.lensDeltaProb[l][p], 0, 'g', 9);
    return out;
}

}  // namespace spyglass::ui
