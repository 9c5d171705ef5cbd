#include "views/factors_view.h"

#include "views/figure_export.h"
#include "views/plot_helpers.h"
#include "views/token_selection.h"
#include "views/token_strip.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>

namespace spyglass::ui {

namespace {

QString textOf(const core::Report& r, int id)
{
    const auto it = r.tokenTexts.find(id);
    return TokenStrip::label(it == r.tokenTexts.end() ? QStringLiteral("#%1").arg(id)
                                                      : QString::fromStdString(it->second));
}

}  // namespace

QColor FactorsView::factorColour(int factor, int count)
{
    return QColor::fromHsvF(std::fmod(0.61803 * factor, 1.0), 0.7, 0.9 - 0.2 * (factor % 2));
}

FactorsView::FactorsView(TokenSelection* selection, QWidget* parent)
    : QWidget(parent),
      m_selection(selection),
      m_factor(new QComboBox),
      m_k(new QSpinBox),
      m_firstLayer(new QSpinBox),
      m_lastLayer(new QSpinBox),
      m_recompute(new QPushButton(tr("Recompute"))),
      m_strip(new TokenStrip),
      m_plot(new QCustomPlot),
      m_promoted(new QLabel)
{
    setWindowTitle(tr("Activation factors"));
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Colour by:")));
    top->addWidget(m_factor);
    top->addStretch(1);
    top->addWidget(new QLabel(tr("k")));
    top->addWidget(m_k);
    top->addWidget(new QLabel(tr("layers")));
    top->addWidget(m_firstLayer);
    top->addWidget(new QLabel(QStringLiteral("–")));
    top->addWidget(m_lastLayer);
    top->addWidget(m_recompute);
    m_k->setRange(1, 1);
    m_k->setToolTip(tr("number of factors (at most the number of positions)"));
    m_firstLayer->setToolTip(tr("first factorised layer"));
    m_lastLayer->setToolTip(tr("last factorised layer"));
    m_recompute->setToolTip(tr("recompute the factors in the background (one forward pass and NMF)"));
    connect(m_recompute, &QPushButton::clicked, this,
            [this] { emit recomputeRequested(m_k->value(), m_firstLayer->value(), m_lastLayer->value() + 1); });
    connect(m_firstLayer, &QSpinBox::valueChanged, this, [this](int v) { m_lastLayer->setMinimum(v); });
    m_promoted->setWordWrap(true);
    m_promoted->setTextFormat(Qt::RichText);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_strip);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_promoted);
    m_plot->setMinimumHeight(200);
    m_plot->xAxis->setLabel(tr("position"));
    m_plot->yAxis->setLabel(tr("factor strength"));
    placeLegendBeside(m_plot);
    m_plot->legend->setFont(QFont(font().family(), 7));
    connect(m_factor, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
    setContextMenuPolicy(Qt::CustomContextMenu);
    connect(this, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        QMenu menu;
        menu.addActions(ablationActions(&menu));
        if (!menu.isEmpty()) menu.exec(mapToGlobal(at));
    });
    connect(m_strip, &TokenStrip::tokenClicked, m_selection, &TokenSelection::select);
    connect(m_strip, &TokenStrip::tokenHovered, m_selection, &TokenSelection::select);  // hovering selects too
    connect(m_selection, &TokenSelection::positionChanged, m_strip, &TokenStrip::setSelected);
}

void FactorsView::setRecomputing(bool busy)
{
    m_recompute->setEnabled(!busy);
    m_recompute->setText(busy ? tr("Computing…") : tr("Recompute"));
}

void FactorsView::setReport(const ReportPtr& report)
{
    m_report = report;
    setRecomputing(false);
    if (report->factors) {
        const auto& f = *report->factors;
        m_k->setRange(1, static_cast<int>(report->tokens.size()));
        m_k->setValue(f.k);
        m_firstLayer->setRange(0, report->model.layerCount - 1);
        m_lastLayer->setRange(0, report->model.layerCount - 1);
        if (!f.layers.empty()) {
            m_firstLayer->setValue(f.layers.front());
            m_lastLayer->setValue(f.layers.back());
        }
    }
    m_factor->blockSignals(true);
    m_factor->clear();
    m_factor->addItem(tr("strongest factor per token"));
    if (report->factors)
        for (int j = 0; j < report->factors->k; ++j) m_factor->addItem(tr("factor %1").arg(j));
    m_factor->blockSignals(false);
    refresh();
}

QList<QAction*> FactorsView::ablationActions(QObject* parent)
{
    QList<QAction*> out;
    if (!m_report || !m_report->factors || m_report->factors->loadings.values.empty()) return out;
    std::vector<int> order;
    if (m_factor->currentIndex() > 0) order.push_back(m_factor->currentIndex() - 1);
    for (int j = 0; j < m_report->factors->k; ++j)
        if (order.empty() || j != order.front()) order.push_back(j);
    QAction* neuronAction = nullptr;  // listed after the factors
    // The neurons that carry the first factor most: the 5 largest loadings of its strongest layer.
    const core::FactorSection& f = *m_report->factors;
    const int64_t columns = f.loadings.shape.size() == 2 ? f.loadings.shape[1] : 0;
    const int64_t layers = static_cast<int64_t>(f.layers.size());
    if (layers > 0 && columns % layers == 0 && columns > 0) {
        const int64_t neurons = columns / layers;
        const float* row = f.loadings.values.data() + static_cast<size_t>(order.front()) * static_cast<size_t>(columns);
        const int64_t best = std::max_element(row, row + columns) - row;
        const int64_t layer = best / neurons;
        std::vector<int64_t> top(static_cast<size_t>(neurons));
        for (int64_t n = 0; n < neurons; ++n) top[static_cast<size_t>(n)] = n;
        const size_t count = std::min<size_t>(5, top.size());
        std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(count), top.end(),
                          [&](int64_t a, int64_t b) { return row[layer * neurons + a] > row[layer * neurons + b]; });
        QStringList units;
        for (size_t i = 0; i < count; ++i) units << QString::number(top[i]);
        const QString spec =
            QStringLiteral("neuron:%1:%2").arg(f.layers[static_cast<size_t>(layer)]).arg(units.join(','));
        auto* action =
            new QAction(tr("Ablate factor %1's top neurons (%2) and rerun").arg(order.front()).arg(spec), parent);
        connect(action, &QAction::triggered, this, [this, spec] { emit ablationRequested(spec); });
        neuronAction = action;
    }
    for (int j : order) {
        auto* action = new QAction(tr("Ablate factor %1 and rerun").arg(j), parent);
        action->setToolTip(
            tr("Project factor %1's loading direction out of each of its layers' MLP activations").arg(j));
        connect(action, &QAction::triggered, this, [this, j] { emit factorAblationRequested(j); });
        out << action;
    }
    if (neuronAction) out << neuronAction;
    return out;
}

void FactorsView::refresh()
{
    m_plot->clearGraphs();
    if (!m_report || !m_report->factors) {
        m_strip->setTokens({});
        m_promoted->clear();
        m_plot->replot();
        return;
    }
    const core::FactorSection& f = *m_report->factors;
    const int chosen = m_factor->currentIndex() - 1;  // −1: argmax
    std::vector<double> maxOf(static_cast<size_t>(f.k), 0.0);
    for (int j = 0; j < f.k; ++j)
        for (float v : f.strengths[static_cast<size_t>(j)])
            maxOf[static_cast<size_t>(j)] = std::max<double>(maxOf[static_cast<size_t>(j)], v);
    QVector<TokenStrip::Token> tokens;
    for (size_t p = 0; p < f.positions.size(); ++p) {
        const auto& reportToken = m_report->tokens[static_cast<size_t>(f.positions[p])];
        TokenStrip::Token t;
        t.text = textOf(*m_report, reportToken.id);
        t.generated = reportToken.generated;
        int factor = chosen;
        if (factor < 0) {
            double best = -1;
            for (int j = 0; j < f.k; ++j) {
                const double v =
                    f.strengths[static_cast<size_t>(j)][p] / std::max(1e-12, maxOf[static_cast<size_t>(j)]);
                if (v > best) {
                    best = v;
                    factor = j;
                }
            }
        }
        const double strength =
            f.strengths[static_cast<size_t>(factor)][p] / std::max(1e-12, maxOf[static_cast<size_t>(factor)]);
        QColor c = factorColour(factor, f.k);
        c.setAlphaF(0.1 + 0.85 * std::clamp(strength, 0.0, 1.0));
        t.background = c;
        QString tip = tr("%1 — factor strengths:").arg(t.text.toHtmlEscaped());
        for (int j = 0; j < f.k; ++j)
            tip += QStringLiteral("<br>%1: %2").arg(j).arg(f.strengths[static_cast<size_t>(j)][p], 0, 'g', 4);
        t.toolTip = tip;
        tokens.append(t);
    }
    m_strip->setTokens(tokens);
    m_strip->setSelected(m_selection->position());

    for (int j = 0; j < f.k; ++j) {
        if (chosen >= 0 && j != chosen) continue;
        QCPGraph* g = m_plot->addGraph();
        g->setName(tr("factor %1").arg(j));
        g->setPen(QPen(factorColour(j, f.k), 1.6));
        QVector<double> x, y;
        for (size_t p = 0; p < f.positions.size(); ++p) {
            x << f.positions[p];
            y << f.strengths[static_cast<size_t>(j)][p];
        }
        g->setData(x, y);
    }
    QSharedPointer<QCPAxisTickerText> ticks(new QCPAxisTickerText);
    for (size_t p = 0; p < f.positions.size(); ++p) ticks->addTick(f.positions[p], tokens[static_cast<int>(p)].text);
    m_plot->xAxis->setTicker(ticks);
    m_plot->xAxis->setTickLabelRotation(60);
    m_plot->rescaleAxes();
    m_plot->replot(QCustomPlot::rpQueuedReplot);

    QString promoted = tr(
        "<b>Tokens each factor promotes</b> (last factorised layer, through the down-projection and the unembedding):");
    for (int j = 0; j < f.k; ++j) {
        if (chosen >= 0 && j != chosen) continue;
        if (f.topTokens.empty()) break;
        QStringList words;
        for (int id : f.topTokens[static_cast<size_t>(j)].back()) words << textOf(*m_report, id).toHtmlEscaped();
        promoted += QStringLiteral("<br><span style='color:%1'>■</span> %2: %3")
                        .arg(factorColour(j, f.k).name())
                        .arg(j)
                        .arg(words.join(QStringLiteral(" · ")));
    }
    promoted += tr("<br>reconstruction error %1 of ‖X‖ %2; stability %3")
                    .arg(f.reconstructionError, 0, 'g', 4)
                    .arg(f.inputNorm, 0, 'g', 4)
                    .arg(f.stability, 0, 'f', 3);
    m_promoted->setText(promoted);
}

QString FactorsView::toCsv() const
{
    if (!m_report || !m_report->factors) return {};
    const core::FactorSection& f = *m_report->factors;
    QString csv = QStringLiteral("position,token");
    for (int j = 0; j < f.k; ++j) csv += QStringLiteral(",factor_%1").arg(j);
    csv += QLatin1Char('\n');
    for (size_t p = 0; p < f.positions.size(); ++p) {
        csv += QStringLiteral("%1,%2")
                   .arg(f.positions[p])
                   .arg(csvField(textOf(*m_report, m_report->tokens[static_cast<size_t>(f.positions[p])].id)));
        for (int j = 0; j < f.k; ++j)
            csv += QStringLiteral(",%1").arg(f.strengths[static_cast<size_t>(j)][p], 0, 'g', 8);
        csv += QLatin1Char('\n');
    }
    return csv;
}

}  // namespace spyglass::ui
