#include "views/token_strip.h"

#include "views/contrast.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

namespace spyglass::ui {

namespace {
constexpr int kPad = 3, kGap = 2, kMargin = 6;
}

TokenStrip::TokenStrip(QWidget* parent) : QWidget(parent)
{
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

QString TokenStrip::label(const QString& text)
{
    QString s = text;
    if (s.trimmed().isEmpty()) s.replace(QLatin1Char(' '), QStringLiteral("␣"));
    s.replace(QLatin1Char('\n'), QStringLiteral("↵"));
    s.replace(QLatin1Char('\r'), QStringLiteral("␍"));
    s.replace(QLatin1Char('\t'), QStringLiteral("→"));
    if (s.isEmpty()) s = QStringLiteral("∅");
    return s;
}

void TokenStrip::setTokens(QVector<Token> tokens)
{
    m_tokens = std::move(tokens);
    updateGeometry();
    update();
}

void TokenStrip::setSelected(int position)
{
    m_selected = position;
    update();
}

QVector<QRect> TokenStrip::layoutFor(int width) const
{
    QVector<QRect> rects;
    const QFontMetrics fm(font());
    const int lineHeight = fm.height() + 2 * kPad;
    int x = kMargin, y = kMargin;
    for (const auto& t : m_tokens) {
        const int w = fm.horizontalAdvance(label(t.text)) + 2 * kPad;
        if (x + w > width - kMargin && x > kMargin) {
            x = kMargin;
            y += lineHeight + kGap;
        }
        rects.append(QRect(x, y, w, lineHeight));
        x += w + kGap;
        if (t.text.endsWith(QLatin1Char('\n'))) {  // keep the text's own line breaks
            x = kMargin;
            y += lineHeight + kGap;
        }
    }
    return rects;
}

int TokenStrip::heightForWidth(int width) const
{
    const QVector<QRect> rects = layoutFor(width);
    return rects.isEmpty() ? QFontMetrics(font()).height() + 2 * kMargin : rects.last().bottom() + kMargin;
}

QSize TokenStrip::sizeHint() const
{
    return {500, heightForWidth(500)};
}

void TokenStrip::paintEvent(QPaintEvent*)
{
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    const QVector<QRect> rects = layoutFor(width());
    for (int i = 0; i < m_tokens.size(); ++i) {
        const Token& t = m_tokens[i];
        const QRect r = rects[i];
        painter.setPen(Qt::NoPen);
        painter.setBrush(t.background);
        painter.drawRoundedRect(r, 3, 3);
        painter.setPen(t.background.alpha() == 0 ? palette().color(QPalette::Text)
                                                 : readableTextOn(t.background, palette().color(QPalette::Window)));
        QFont f = font();
        f.setItalic(t.generated);
        painter.setFont(f);
        painter.drawText(r, Qt::AlignCenter, label(t.text));
        if (i == m_selected) {
            painter.setPen(QPen(palette().color(QPalette::Highlight), 2));
            painter.setBrush(Qt::NoBrush);
            painter.drawRoundedRect(r.adjusted(-1, -1, 1, 1), 3, 3);
        }
    }
}

int TokenStrip::tokenAt(const QPoint& point) const
{
    const QVector<QRect> rects = layoutFor(width());
    for (int i = 0; i < rects.size(); ++i)
        if (rects[i].contains(point)) return i;
    return -1;
}

void TokenStrip::mousePressEvent(QMouseEvent* event)
{
    const int i = tokenAt(event->position().toPoint());
    if (i >= 0) emit tokenClicked(i);
}

void TokenStrip::mouseMoveEvent(QMouseEvent* event)
{
    const int i = tokenAt(event->position().toPoint());
    if (i >= 0 && i != m_hovered) emit tokenHovered(i);
    m_hovered = i;
}

bool TokenStrip::event(QEvent* event)
{
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const int i = tokenAt(help->pos());
        if (i >= 0 && !m_tokens[i].toolTip.isEmpty())
            QToolTip::showText(help->globalPos(), m_tokens[i].toolTip, this);
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(event);
}

}  // namespace spyglass::ui
