#include "pages/region_canvas.h"

#include <QMouseEvent>
#include <QPainter>

namespace spyglass::ui {

RegionCanvas::RegionCanvas(QWidget* parent) : QWidget(parent)
{
    setMinimumSize(200, 200);
    setCursor(Qt::CrossCursor);
    setToolTip(tr("Drag a rectangle over the region to study (e.g. the hands); right-click for the whole image"));
}

void RegionCanvas::setImage(const QImage& image)
{
    if (image.size() != m_image.size()) m_painted.clear();
    m_image = image;
    if (!m_region.isEmpty() && !QRect(QPoint(0, 0), image.size()).contains(m_region)) m_region = {};
    update();
}

void RegionCanvas::setRegion(const QRect& region)
{
    m_region = region.intersected(QRect(QPoint(0, 0), m_image.size()));
    update();
    emit regionChanged(m_region);
}

void RegionCanvas::setBrush(bool on, int radius)
{
    m_brushOn = on;
    m_radius = std::max(1, radius);
}

void RegionCanvas::clearRegion()
{
    m_painted.clear();
    setRegion({});
}

void RegionCanvas::paintAt(const QPoint& p)
{
    const int w = m_image.width(), h = m_image.height();
    if (w == 0) return;
    if (m_painted.size() != static_cast<size_t>(w) * static_cast<size_t>(h))
        m_painted.assign(static_cast<size_t>(w) * static_cast<size_t>(h), 0);
    for (int y = std::max(0, p.y() - m_radius); y <= std::min(h - 1, p.y() + m_radius); ++y)
        for (int x = std::max(0, p.x() - m_radius); x <= std::min(w - 1, p.x() + m_radius); ++x)
            if ((x - p.x()) * (x - p.x()) + (y - p.y()) * (y - p.y()) <= m_radius * m_radius)
                m_painted[static_cast<size_t>(y * w + x)] = 1;
    m_region = {};
    update();
}

std::vector<uint8_t> RegionCanvas::mask() const
{
    if (!m_painted.empty()) return m_painted;
    const int w = m_image.width(), h = m_image.height();
    std::vector<uint8_t> mask(static_cast<size_t>(w) * static_cast<size_t>(h), m_region.isEmpty() ? 1 : 0);
    if (!m_region.isEmpty())
        for (int y = m_region.top(); y <= m_region.bottom(); ++y)
            for (int x = m_region.left(); x <= m_region.right(); ++x) mask[static_cast<size_t>(y * w + x)] = 1;
    return mask;
}

QRect RegionCanvas::target() const
{
    if (m_image.isNull()) return {};
    const QSize size = m_image.size().scaled(this->size(), Qt::KeepAspectRatio);
    return {QPoint((width() - size.width()) / 2, (height() - size.height()) / 2), size};
}

QPoint RegionCanvas::toImage(const QPoint& p) const
{
    const QRect t = target();
    if (t.isEmpty()) return {};
    const int x = (p.x() - t.left()) * m_image.width() / t.width();
    const int y = (p.y() - t.top()) * m_image.height() / t.height();
    return {std::clamp(x, 0, m_image.width() - 1), std::clamp(y, 0, m_image.height() - 1)};
}

void RegionCanvas::paintEvent(QPaintEvent*)
{
    QPainter painter(this);
    if (m_image.isNull()) {
        painter.drawText(rect(), Qt::AlignCenter, tr("Run the lab to see the full-prompt image"));
        return;
    }
    const QRect t = target();
    const bool enlarge = t.width() > m_image.width();
    painter.setRenderHint(QPainter::SmoothPixmapTransform, !enlarge);
    painter.drawImage(t, m_image);
    if (!m_painted.empty()) {
        QImage overlay(m_image.size(), QImage::Format_ARGB32);
        overlay.fill(Qt::transparent);
        for (int y = 0; y < m_image.height(); ++y)
            for (int x = 0; x < m_image.width(); ++x)
                if (m_painted[static_cast<size_t>(y * m_image.width() + x)])
                    overlay.setPixelColor(x, y, QColor(255, 255, 255, 110));
        painter.drawImage(t, overlay);
    }
    if (!m_region.isEmpty()) {
        const double sx = double(t.width()) / m_image.width(), sy = double(t.height()) / m_image.height();
        const QRectF r(t.left() + m_region.left() * sx, t.top() + m_region.top() * sy, m_region.width() * sx,
                       m_region.height() * sy);
        painter.setPen(QPen(Qt::white, 3));
        painter.drawRect(r);
        painter.setPen(QPen(Qt::black, 1, Qt::DashLine));
        painter.drawRect(r);
    }
}

void RegionCanvas::mousePressEvent(QMouseEvent* event)
{
    if (m_image.isNull()) return;
    if (event->button() == Qt::RightButton) {
        clearRegion();
        return;
    }
    m_dragging = true;
    if (m_brushOn) {
        if (m_painted.empty()) m_region = {};
        paintAt(toImage(event->position().toPoint()));
        return;
    }
    m_painted.clear();
    m_anchor = toImage(event->position().toPoint());
    m_region = QRect(m_anchor, m_anchor);
    update();
}

void RegionCanvas::mouseMoveEvent(QMouseEvent* event)
{
    if (!m_dragging) return;
    if (m_brushOn) return paintAt(toImage(event->position().toPoint()));
    m_region = QRect(m_anchor, toImage(event->position().toPoint())).normalized();
    update();
}

void RegionCanvas::mouseReleaseEvent(QMouseEvent* event)
{
    if (!m_dragging) return;
    m_dragging = false;
    if (m_brushOn) {
        emit regionChanged(m_region);
        return;
    }
    setRegion(QRect(m_anchor, toImage(event->position().toPoint())).normalized());
}

}  // namespace spyglass::ui
