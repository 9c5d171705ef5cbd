#pragma once
// RegionCanvas — shows an image scaled to fit (pixel-exact when enlarged) and lets the user mark
// the region of interest in image pixels: drag a rectangle, or with the brush paint a mask.
// Right-click clears it (the whole image).
#include <QImage>
#include <QRect>
#include <QWidget>

#include <vector>

namespace spyglass::ui {

class RegionCanvas : public QWidget {
    Q_OBJECT
public:
    explicit RegionCanvas(QWidget* parent = nullptr);
    void setImage(const QImage& image);
    [[nodiscard]] const QImage& image() const { return m_image; }
    void setRegion(const QRect& region);  // image pixels; empty: whole image
    [[nodiscard]] QRect region() const { return m_region; }
    // Brush mode: dragging paints a disc of `radius` image pixels into the mask.
    void setBrush(bool on, int radius);
    [[nodiscard]] bool brush() const { return m_brushOn; }
    void paintAt(const QPoint& imagePoint);  // one brush dab (also used by tests)
    void clearRegion();
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
    bool m_brushOn = false;
    int m_radius = 3;
    std::vector<uint8_t> m_painted;  // brush mask, image size; empty: none
    QPoint m_anchor;
    bool m_dragging = false;
};

}  // namespace spyglass::ui
