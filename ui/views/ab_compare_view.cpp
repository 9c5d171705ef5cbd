#include "views/ab_compare_view.h"

#include "views/contrast.h"
#include "views/factors_view.h"
#include "views/figure_export.h"
#include "views/plot_helpers.h"
#include "views/token_strip.h"

#include <qcustomplot.h>
#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace spyglass::ui {

namespace {

constexpr int kAbRowHeight = 20, kAbPad = 4, kAbMargin = 6, kAbGap = 6;

QStringList textsOf(const core::Report& r)
{
    QStringList out;
    for (const std::string& t : core::tokenTexts(r)) out << TokenStrip::label(QString::fromStdString(t));
    return out;
}

}  // namespace

AbCompareView::AbCompareView(QWidget* parent) : QWidget(parent)
{
    setWindowTitle(tr("A/B comparison"));
    setMouseTracking(true);
    setAutoFillBackground(true);
}

void AbCompareView::setComparison(const ComparisonPtr& comparison)
{
    m_comparison = comparison;
    m_textsA.clear();
    m_textsB.clear();
    m_factorsA.clear();
    m_factorsB.clear();
    if (comparison) {
        m_textsA = textsOf(comparison->a);
        m_textsB = textsOf(comparison->b);
        m_receivedA = core::saliencyReceived(comparison->a);
        m_receivedB = core::saliencyReceived(comparison->b);
        m_lensA = core::firstTopLayer(comparison->a);
        m_lensB = core::firstTopLayer(comparison->b);
        if (comparison->factors) {
            m_factorsA = core::sideStrengths(*comparison, false);
            m_factorsB = core::sideStrengths(*comparison, true);
        }
    }
    relayout();
    update();
}

QStringList AbCompareView::rowLabels() const
{
    QStringList rows{tr("A"), tr("B"), tr("Δ saliency (B − A)"), tr("lens top-1 from layer, A"),
                     tr("lens top-1 from layer, B")};
    for (size_t k = 0; k < m_factorsA.size(); ++k) rows << tr("factor %1, A").arg(k) << tr("factor %1, B").arg(k);
    return rows;
}

void AbCompareView::relayout()
{
    m_x.clear();
    m_width.clear();
    const QFontMetrics fm(font());
    m_labelWidth = 0;
    for (const QString& label : rowLabels()) m_labelWidth = std::max(m_labelWidth, fm.horizontalAdvance(label));
    m_labelWidth += 2 * kAbPad + kAbMargin;
    if (!m_comparison) return;
    int x = m_labelWidth;
    for (const core::TokenPair& p : m_comparison->alignment) {
        int w = fm.horizontalAdvance(QStringLiteral("00"));
        if (p.a >= 0) w = std::max(w, fm.horizontalAdvance(m_textsA[p.a]));
        if (p.b >= 0) w = std::max(w, fm.horizontalAdvance(m_textsB[p.b]));
        m_x.push_back(x);
        m_width.push_back(w + 2 * kAbPad);
        x += w + 2 * kAbPad + 1;
    }
    updateGeometry();
}

QSize AbCompareView::sizeHint() const
{
    const int width = m_x.empty() ? 400 : m_x.back() + m_width.back() + kAbMargin;
    return {width, kAbMargin * 2 + kAbGap * 2 + static_cast<int>(rowLabels().size()) * kAbRowHeight + 40};
}

int AbCompareView::columnAt(const QPoint& point) const
{
    for (size_t c = 0; c < m_x.size(); ++c)
        if (point.x() >= m_x[c] && point.x() < m_x[c] + m_width[c]) return static_cast<int>(c);
    return -1;
}

QString AbCompareView::columnSummary(int column) const
{
    if (!m_comparison || column < 0 || column >= static_cast<int>(m_comparison->alignment.size())) return {};
    const core::TokenPair p = m_comparison->alignment[static_cast<size_t>(column)];
    auto side = [&](int i, const QStringList& texts, const std::vector<float>& received, const std::vector<int>& lens) {
        if (i < 0) return tr("—");
        return tr("“%1” (position %2): saliency received %3 %, lens top-1 from layer %4")
            .arg(texts[i])
            .arg(i)
            .arg(100.0 * received[static_cast<size_t>(i)], 0, 'f', 2)
            .arg(lens[static_cast<size_t>(i)] >= 0 ? QString::number(lens[static_cast<size_t>(i)]) : tr("none"));
    };
    return tr("A: %1\nB: %2").arg(side(p.a, m_textsA, m_receivedA, m_lensA), side(p.b, m_textsB, m_receivedB, m_lensB));
}

bool AbCompareView::event(QEvent* event)
{
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const QString text = columnSummary(columnAt(help->pos()));
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(help->globalPos(), text, this);
        return true;
    }
    return QWidget::event(event);
}

void AbCompareView::paintEvent(QPaintEvent*)
{
    QPainter painter(this);
    painter.fillRect(rect(), palette().window());
    const QColor text = palette().color(QPalette::WindowText);
    const QStringList labels = rowLabels();
    auto rowTop = [&](int row) {
        return kAbMargin + row * kAbRowHeight + (row >= 2 ? kAbGap : 0) + (row >= 5 ? kAbGap : 0);
    };
    painter.setPen(text);
    for (int r = 0; r < labels.size(); ++r)
        painter.drawText(QRect(kAbMargin, rowTop(r), m_labelWidth - kAbMargin - kAbPad, kAbRowHeight),
                         Qt::AlignRight | Qt::AlignVCenter, labels[r]);
    if (!m_comparison) {
        painter.drawText(rect().adjusted(m_labelWidth, 0, 0, 0), Qt::AlignCenter,
                         tr("Type two prompts and press Run to compare them."));
        return;
    }
    double maxShare = 0, maxDelta = 0;
    for (float v : m_receivedA) maxShare = std::max<double>(maxShare, v);
    for (float v : m_receivedB) maxShare = std::max<double>(maxShare, v);
    const auto& alignment = m_comparison->alignment;
    for (const auto& p : alignment)
        if (p.a >= 0 && p.b >= 0)
            maxDelta = std::max<double>(
                maxDelta, std::abs(m_receivedB[static_cast<size_t>(p.b)] - m_receivedA[static_cast<size_t>(p.a)]));
    const int layers = m_comparison->a.lens ? static_cast<int>(m_comparison->a.lens->layers.size()) : 1;
    std::vector<double> maxFactor(m_factorsA.size(), 0.0);
    for (size_t k = 0; k < m_factorsA.size(); ++k) {
        for (float v : m_factorsA[k]) maxFactor[k] = std::max<double>(maxFactor[k], v);
        for (float v : m_factorsB[k]) maxFactor[k] = std::max<double>(maxFactor[k], v);
    }
    QCPColorGradient diverging = divergingGradient();  // as the Δ heatmaps (color() is not const)
    QFont bold = font();
    bold.setBold(true);
    auto cell = [&](size_t column, int row, const QColor& fill, const QString& label, bool generated = false) {
        const QRect r(m_x[column], rowTop(row), m_width[column], kAbRowHeight - 2);
        painter.fillRect(r, fill);
        if (!label.isEmpty()) {
            painter.setFont(generated ? bold : font());
            painter.setPen(readableTextOn(fill, palette().color(QPalette::Window)));
            painter.drawText(r, Qt::AlignCenter, label);
        }
    };
    auto generatedAt = [](const core::Report& r, int i) {
        return i >= 0 && r.tokens[static_cast<size_t>(i)].generated;
    };
    const QColor none = palette().color(QPalette::Window);
    for (size_t c = 0; c < alignment.size(); ++c) {
        const core::TokenPair p = alignment[c];
        const auto a = static_cast<size_t>(std::max(0, p.a)), b = static_cast<size_t>(std::max(0, p.b));
        cell(c, 0, p.a >= 0 ? saliencyColour(m_receivedA[a], maxShare) : none, p.a >= 0 ? m_textsA[p.a] : tr("—"),
             generatedAt(m_comparison->a, p.a));
        cell(c, 1, p.b >= 0 ? saliencyColour(m_receivedB[b], maxShare) : none, p.b >= 0 ? m_textsB[p.b] : tr("—"),
             generatedAt(m_comparison->b, p.b));
        if (p.a >= 0 && p.b >= 0)
            cell(c, 2,
                 QColor::fromRgb(diverging.color(m_receivedB[b] - m_receivedA[a],
                                                 QCPRange(-std::max(maxDelta, 1e-12), std::max(maxDelta, 1e-12)))),
                 {});
        for (int side = 0; side < 2; ++side) {
            const int index = side == 0 ? p.a : p.b;
            if (index < 0) continue;
            const int layer = (side == 0 ? m_lensA : m_lensB)[static_cast<size_t>(index)];
            const double shade = layer >= 0 ? 1.0 - 0.7 * layer / std::max(1, layers - 1) : 1.0;
            cell(c, 3 + side, layer >= 0 ? QColor::fromRgbF(shade, shade * 0.95 + 0.05, 0.55 + 0.45 * shade) : none,
                 layer >= 0 ? QString::number(layer) : QStringLiteral("·"));
        }
        for (size_t k = 0; k < m_factorsA.size(); ++k)
            for (int side = 0; side < 2; ++side) {
                const int index = side == 0 ? p.a : p.b;
                if (index < 0) continue;
                const float v = (side == 0 ? m_factorsA : m_factorsB)[k][static_cast<size_t>(index)];
                QColor colour = FactorsView::factorColour(static_cast<int>(k), static_cast<int>(m_factorsA.size()));
                colour.setAlphaF(maxFactor[k] > 0 ? 0.05 + 0.9 * std::clamp(v / maxFactor[k], 0.0, 1.0) : 0.05);
                cell(c, 5 + 2 * static_cast<int>(k) + side, colour, {});
            }
        if (p.a < 0 || p.b < 0) {  // the prompts differ here
            painter.setPen(QPen(QColor(230, 97, 1), 2));
            painter.setBrush(Qt::NoBrush);
            painter.drawRect(QRect(m_x[c], rowTop(0), m_width[c], 2 * kAbRowHeight - 2).adjusted(0, 0, -1, -1));
        }
    }
}

QString AbCompareView::toCsv() const
{
    QString out =
        QStringLiteral("column,a_position,a_token,b_position,b_token,saliency_a,saliency_b,lens_top1_a,lens_top1_b");
    for (size_t k = 0; k < m_factorsA.size(); ++k) out += QStringLiteral(",factor%1_a,factor%1_b").arg(k);
    out += QLatin1Char('\n');
    if (!m_comparison) return out;
    for (size_t c = 0; c < m_comparison->alignment.size(); ++c) {
        const core::TokenPair p = m_comparison->alignment[c];
        auto at = [](const auto& values, int i) {
            return i >= 0 ? QString::number(values[static_cast<size_t>(i)], 'g', 9) : QString();
        };
        out += QStringLiteral("%1,%2,%3,%4,%5,%6,%7,%8,%9")
                   .arg(c)
                   .arg(p.a >= 0 ? QString::number(p.a) : QString())
                   .arg(p.a >= 0 ? csvField(m_textsA[p.a]) : QString())
                   .arg(p.b >= 0 ? QString::number(p.b) : QString())
                   .arg(p.b >= 0 ? csvField(m_textsB[p.b]) : QString())
                   .arg(at(m_receivedA, p.a), at(m_receivedB, p.b), at(m_lensA, p.a), at(m_lensB, p.b));
        for (size_t k = 0; k < m_factorsA.size(); ++k)
            out += QLatin1Char(',') + at(m_factorsA[k], p.a) + QLatin1Char(',') + at(m_factorsB[k], p.b);
        out += QLatin1Char('\n');
    }
    return out;
}

}  // namespace spyglass::ui
