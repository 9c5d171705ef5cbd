#pragma once
// RegionCanvas — shows an image scaled to fit (pixel-exact when enlarged) and lets the user drag
// a rectangle over it: the region of interest, in image pixels (empty: the whole image).
#include <QImage>
#include <QRect>
#include <QWidget>

namespace spyglass::ui {

class RegionCanvas : public QWidget {
    Q_OBJECT
public:
    explicit RegionCanvas(QWidget* parent = nullptr);
    void setImage(const QImage& image);
    [[nodiscard]] const QImage& image() const { return m_image; }
    void setRegion(const QRect& region);  // image pixels; empty: whole image
    [[nodiscard]] QRect region() const { return m_region; }
    // width·height bytes, 1 inside the region (everything when no region is set).
    [[nodiscard]] std::vector<uint8_t> mask() const;
    [[nodiscard]] QSize sizeHint() const override { return {320, 320}; }

signals:
    void regionChanged(const QRect& region);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    [[nodiscard]] QRect target() const;  // where the image is drawn
    [[nodiscard]] QPoint toImage(const QPoint& widgetPoint) const;

    QImage m_image;
    QRect m_region;
    QPoint m_anchor;
    bool m_dragging = false;
};

}  // namespace spyglass::ui
