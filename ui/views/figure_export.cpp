#include "views/figure_export.h"

#include <QApplication>
#include <QBuffer>
#include <QFileInfo>
#include <QPainter>
#include <QPdfWriter>
#include <QSaveFile>
#include <QStyle>
#include <QSvgGenerator>
#include <QWidget>

namespace spyglass::ui {

namespace {

QString saveBytes(const QByteArray& bytes, const QString& path)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return QStringLiteral("%1: cannot write: %2").arg(path, file.errorString());
    file.write(bytes);
    if (!file.commit()) return QStringLiteral("%1: cannot write: %2").arg(path, file.errorString());
    return {};
}

// Lays out and paints the title block and the widget, in logical (96 dpi) pixels.
class Figure {
public:
    Figure(QWidget* widget, const FigureCaption& caption) : m_widget(widget), m_caption(caption)
    {
        m_titleFont = widget->font();
        m_titleFont.setPointSizeF(m_titleFont.pointSizeF() * 1.3);
        m_titleFont.setBold(true);
        m_subtitleFont = widget->font();
        if (!caption.title.isEmpty()) {
            const int width = widget->width() - 2 * kMargin;
            m_titleHeight =
                QFontMetrics(m_titleFont).boundingRect(0, 0, width, 1000, Qt::TextWordWrap, caption.title).height();
            m_subtitleHeight = QFontMetrics(m_subtitleFont)
                                   .boundingRect(0, 0, width, 1000, Qt::TextWordWrap, caption.subtitle)
                                   .height();
            m_bandHeight = kMargin + m_titleHeight + 4 + m_subtitleHeight + kMargin;
        }
    }
    [[nodiscard]] QSize size() const { return {m_widget->width(), m_widget->height() + m_bandHeight}; }

    void paint(QPainter& painter) const
    {
        painter.fillRect(QRect(QPoint(0, 0), size()), Qt::white);
        if (m_bandHeight > 0) {
            const int width = m_widget->width() - 2 * kMargin;
            painter.setPen(Qt::black);
            painter.setFont(m_titleFont);
            painter.drawText(QRect(kMargin, kMargin, width, m_titleHeight), Qt::TextWordWrap, m_caption.title);
            painter.setFont(m_subtitleFont);
            painter.setPen(QColor(0x50, 0x50, 0x50));
            painter.drawText(QRect(kMargin, kMargin + m_titleHeight + 4, width, m_subtitleHeight), Qt::TextWordWrap,
                             m_caption.subtitle);
            painter.setPen(QColor(0xc0, 0xc0, 0xc0));
            painter.drawLine(kMargin, m_bandHeight - 1, m_widget->width() - kMargin, m_bandHeight - 1);
        }
        m_widget->render(&painter, QPoint(0, m_bandHeight), {}, QWidget::DrawChildren);
    }

private:
    static constexpr int kMargin = 10;
    QWidget* m_widget;
    FigureCaption m_caption;
    QFont m_titleFont;
    QFont m_subtitleFont;
    int m_titleHeight = 0;
    int m_subtitleHeight = 0;
    int m_bandHeight = 0;
};

// Gives the widget the light palette for the duration of an export.
class LightPalette {
public:
    explicit LightPalette(QWidget* widget)
        : m_widget(widget), m_saved(widget->palette()), m_had(widget->testAttribute(Qt::WA_SetPalette))
    {
        if (widget->palette().color(QPalette::Window).lightnessF() < 0.5) {
            widget->setPalette(QApplication::style()->standardPalette());
            m_changed = true;
        }
    }
    ~LightPalette()
    {
        if (!m_changed) return;
        m_widget->setPalette(m_had ? m_saved : QPalette());
        if (!m_had) m_widget->setAttribute(Qt::WA_SetPalette, false);
    }
    LightPalette(const LightPalette&) = delete;
    LightPalette& operator=(const LightPalette&) = delete;

private:
    QWidget* m_widget;
    QPalette m_saved;
    bool m_had;
    bool m_changed = false;
};

}  // namespace

QImage renderFigure(QWidget* widget, int dpi, const FigureCaption& caption)
{
    const LightPalette light(widget);
    const Figure figure(widget, caption);
    const double scale = dpi / 96.0;
    QImage image(figure.size() * scale, QImage::Format_ARGB32);
    image.setDotsPerMeterX(static_cast<int>(dpi / 0.0254));
    image.setDotsPerMeterY(static_cast<int>(dpi / 0.0254));
    QPainter painter(&image);
    painter.scale(scale, scale);
    figure.paint(painter);
    return image;
}

QString exportFigure(QWidget* widget, const QString& path, int dpi, const FigureCaption& caption)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    const LightPalette light(widget);
    const Figure figure(widget, caption);
    const QSize size = figure.size();
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    if (suffix == QLatin1String("png")) {
        if (!renderFigure(widget, dpi, caption).save(&buffer, "PNG"))
            return QStringLiteral("%1: PNG encoding failed").arg(path);
    } else if (suffix == QLatin1String("svg")) {
        QSvgGenerator svg;
        svg.setOutputDevice(&buffer);
        svg.setSize(size);
        svg.setViewBox(QRect(QPoint(0, 0), size));
        svg.setTitle(caption.title.isEmpty() ? widget->windowTitle() : caption.title);
        svg.setDescription(caption.subtitle);
        QPainter painter(&svg);
        figure.paint(painter);
    } else if (suffix == QLatin1String("pdf")) {
        QPdfWriter pdf(&buffer);
        pdf.setResolution(dpi);
        pdf.setPageSize(
            QPageSize(QSizeF(size.width() * 25.4 / 96.0, size.height() * 25.4 / 96.0), QPageSize::Millimeter));
        pdf.setPageMargins({0, 0, 0, 0});
        pdf.setTitle(caption.title.isEmpty() ? widget->windowTitle() : caption.title);
        pdf.setCreator(QStringLiteral("Spyglass"));
        QPainter painter(&pdf);
        painter.scale(dpi / 96.0, dpi / 96.0);
        figure.paint(painter);
    } else {
        return QStringLiteral("%1: unknown figure format '%2' (png, svg or pdf)").arg(path, suffix);
    }
    buffer.close();
    return saveBytes(bytes, path);
}

QString exportText(const QString& text, const QString& path)
{
    return saveBytes(text.toUtf8(), path);
}

QString csvField(QString text)
{
    return QLatin1Char('"') + text.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"');
}

}  // namespace spyglass::ui
