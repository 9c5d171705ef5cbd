#include "views/attention_view.h"

#include "views/figure_export.h"
#include "views/token_selection.h"
#include "views/token_strip.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>

namespace spyglass::ui {

namespace {

constexpr int kMeanOfHeads = -1;

QColor weightColour(double weight, double max)
{
    const double t = max > 0 ? std::clamp(weight / max, 0.0, 1.0) : 0.0;
    QColor c = QColor::fromHsvF(0.58, 0.85, 0.85);  // blue
    c.setAlphaF(0.04 + 0.9 * t);
    return c;
}

}  // namespace

AttentionView::AttentionView(TokenSelection* selection, QWidget* parent)
    : QWidget(parent),
      m_selection(selection),
      m_layer(new QSpinBox),
      m_head(new QComboBox),
      m_caption(new QLabel),
      m_strip(new TokenStrip),
      m_plot(new QCustomPlot)
{
    setWindowTitle(tr("Attention"));
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Layer:")));
    top->addWidget(m_layer);
    top->addWidget(new QLabel(tr("Head:")));
    top->addWidget(m_head);
    top->addWidget(m_caption, 1);
    m_caption->setWordWrap(true);
    auto* scroll = new QScrollArea;  // long contexts scroll; the strip wraps to the width
    scroll->setWidget(m_strip);
    scroll->setWidgetResizable(true);
    scroll->setMinimumHeight(70);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(scroll, 1);
    layout->addWidget(m_plot, 3);
    m_plot->setMinimumHeight(200);
    m_plot->axisRect()->setupFullAxesBox(true);
    m_plot->xAxis->setLabel(tr("head"));
    m_plot->yAxis->setLabel(tr("layer"));
    m_plot->yAxis->setRangeReversed(true);
    m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    m_map->setInterpolate(false);
    auto* scale = new QCPColorScale(m_plot);
    m_plot->plotLayout()->addElement(0, 1, scale);
    scale->setLabel(tr("largest weight"));
    m_map->setColorScale(scale);
    QCPColorGradient gradient;  // white (0) … the strip's blue (1)
    gradient.setColorStopAt(0, QColor(247, 251, 255));
    gradient.setColorStopAt(0.5, QColor(107, 174, 214));
    gradient.setColorStopAt(1, QColor(8, 48, 107));
    gradient.setLevelCount(256);
    m_map->setGradient(gradient);
    m_map->setDataRange(QCPRange(0, 1));
    connect(m_layer, &QSpinBox::valueChanged, this, [this] { refresh(); });
    connect(m_head, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
    connect(m_strip, &TokenStrip::tokenClicked, m_selection, &TokenSelection::select);
    connect(m_plot, &QCustomPlot::mousePress, this, [this](QMouseEvent* e) {
        const int head = static_cast<int>(std::lround(m_plot->xAxis->pixelToCoord(e->position().x())));
        const int layer = static_cast<int>(std::lround(m_plot->yAxis->pixelToCoord(e->position().y())));
        if (m_weights.shape.size() != 3 || layer < 0 || layer >= m_weights.shape[0] || head < 0 ||
            head >= m_weights.shape[1])
            return;
        setLayerAndHead(layer, head);
        if (e->button() == Qt::RightButton) {
            QMenu menu;
            menu.addActions(ablationActions(layer, head, &menu));
            menu.exec(e->globalPosition().toPoint());
        }
    });
    m_caption->setText(tr("Select a token (in any view) to see where it attends."));
}

QList<QAction*> AttentionView::ablationActions(int layer, int head, QObject* parent)
{
    QList<QAction*> out;
    auto add = [&](const QString& label, const QString& spec) {
        auto* action = new QAction(label, parent);
        connect(action, &QAction::triggered, this, [this, spec] { emit ablationRequested(spec); });
        out << action;
    };
    add(tr("Ablate head %1:%2 and rerun").arg(layer).arg(head), QStringLiteral("head:%1:%2").arg(layer).arg(head));
    if (m_position >= 0)
        add(tr("Ablate head %1:%2 at the selected token only and rerun").arg(layer).arg(head),
            QStringLiteral("head:%1:%2@%3").arg(layer).arg(head).arg(m_position));
    return out;
}

void AttentionView::setReport(const ReportPtr& report)
{
    m_tokens.clear();
    for (const auto& t : report->tokens) {
        const auto it = report->tokenTexts.find(t.id);
        m_tokens << (t.text                           ? QString::fromStdString(*t.text)
                     : it != report->tokenTexts.end() ? QString::fromStdString(it->second)
                                                      : QString::number(t.id));
    }
    const int layers = std::max(1, report->model.layerCount), heads = std::max(1, report->model.headCount);
    m_layer->blockSignals(true);
    m_layer->setRange(0, layers - 1);
    m_layer->blockSignals(false);
    m_head->blockSignals(true);
    const int head = m_head->currentData().isValid() ? m_head->currentData().toInt() : kMeanOfHeads;
    m_head->clear();
    m_head->addItem(tr("mean of heads"), kMeanOfHeads);
    for (int h = 0; h < heads; ++h) m_head->addItem(QString::number(h), h);
    m_head->setCurrentIndex(std::max(0, m_head->findData(head)));
    m_head->blockSignals(false);
    m_position = -1;
    m_weights = {};
    refresh();
}

void AttentionView::setAttention(int position, const core::HostTensor& weights)
{
    m_position = position;
    m_weights = weights;
    refresh();
}

void AttentionView::setLayerAndHead(int layer, int head)
{
    m_layer->setValue(layer);
    m_head->setCurrentIndex(std::max(0, m_head->findData(head)));
    refresh();
}

int AttentionView::layer() const
{
    return m_layer->value();
}
int AttentionView::head() const
{
    return m_head->currentData().toInt();
}

std::vector<float> AttentionView::shownWeights() const
{
    if (m_weights.shape.size() != 3) return {};
    const auto& w = m_weights;
    const int64_t heads = w.shape[1], keys = w.shape[2];
    const int64_t l = std::clamp<int64_t>(layer(), 0, w.shape[0] - 1);
    std::vector<float> out(static_cast<size_t>(keys));
    for (int64_t k = 0; k < keys; ++k) {
        if (head() == kMeanOfHeads) {
            double sum = 0;
            for (int64_t h = 0; h < heads; ++h) sum += w.at({l, h, k});
            out[static_cast<size_t>(k)] = static_cast<float>(sum / static_cast<double>(heads));
        } else {
            out[static_cast<size_t>(k)] = w.at({l, std::clamp<int64_t>(head(), 0, heads - 1), k});
        }
    }
    return out;
}

QString AttentionView::caption() const
{
    return m_caption->text();
}

void AttentionView::refresh()
{
    QVector<TokenStrip::Token> strip;
    const std::vector<float> weights = shownWeights();
    const float max = weights.empty() ? 0.0F : *std::max_element(weights.begin(), weights.end());
    const int query = m_position;
    for (int p = 0; p < m_tokens.size(); ++p) {
        TokenStrip::Token t;
        t.text = m_tokens[p];
        if (p < static_cast<int>(weights.size())) {
            t.background = weightColour(weights[static_cast<size_t>(p)], max);
            t.toolTip =
                tr("%1: weight %2").arg(TokenStrip::label(m_tokens[p])).arg(weights[static_cast<size_t>(p)], 0, 'f', 4);
        }
        t.generated = p == query;
        strip.push_back(t);
    }
    m_strip->setTokens(strip);
    m_strip->setSelected(query);
    if (m_weights.shape.size() != 3) {
        m_map->data()->clear();
        m_plot->replot();
        return;
    }
    const auto& w = m_weights;
    const int layers = static_cast<int>(w.shape[0]), heads = static_cast<int>(w.shape[1]),
              keys = static_cast<int>(w.shape[2]);
    m_map->data()->setSize(heads, layers);
    m_map->data()->setRange(QCPRange(0, heads - 1), QCPRange(0, layers - 1));
    for (int l = 0; l < layers; ++l)
        for (int h = 0; h < heads; ++h) {
            float best = 0;
            for (int k = 0; k < keys; ++k) best = std::max(best, w.at({l, h, k}));
            m_map->data()->setCell(h, l, best);
        }
    m_plot->xAxis->setRange(-0.5, heads - 0.5);
    m_plot->yAxis->setRange(-0.5, layers - 0.5);
    m_plot->replot();
    int argmax = 0;
    for (int k = 1; k < static_cast<int>(weights.size()); ++k)
        if (weights[static_cast<size_t>(k)] > weights[static_cast<size_t>(argmax)]) argmax = k;
    const QString who = head() == kMeanOfHeads ? tr("layer %1, mean of %2 heads").arg(layer()).arg(heads)
                                               : tr("layer %1, head %2").arg(layer()).arg(head());
    m_caption->setText(tr("Token %1 “%2”, %3: most attention on %4 “%5” (%6)")
                           .arg(query)
                           .arg(query >= 0 && query < m_tokens.size() ? TokenStrip::label(m_tokens[query]) : QString())
                           .arg(who)
                           .arg(argmax)
                           .arg(argmax < m_tokens.size() ? TokenStrip::label(m_tokens[argmax]) : QString())
                           .arg(weights.empty() ? 0.0 : weights[static_cast<size_t>(argmax)], 0, 'f', 3));
}

QString AttentionView::toCsv() const
{
    QString csv = QStringLiteral("query_position,layer,head,key_position,token,weight\n");
    if (m_weights.shape.size() != 3) return csv;
    const auto& w = m_weights;
    for (int64_t l = 0; l < w.shape[0]; ++l)
        for (int64_t h = 0; h < w.shape[1]; ++h)
            for (int64_t k = 0; k < w.shape[2]; ++k)
                csv += QStringLiteral("%1,%2,%3,%4,%5,%6\n")
                           .arg(m_position)
                           .arg(l)
                           .arg(h)
                           .arg(k)
                           .arg(csvField(k < m_tokens.size() ? m_tokens[static_cast<int>(k)] : QString()))
                           .arg(w.at({l, h, k}), 0, 'g', 9);
    return csv;
}

}  // namespace spyglass::ui
