#include "views/figure_export.h"

#include <QBuffer>
#include <QFileInfo>
#include <QPainter>
#include <QPdfWriter>
#include <QSaveFile>
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

}  // namespace

QString exportFigure(QWidget* widget, const QString& path, int dpi)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    const QSize size = widget->size();
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    if (suffix == QLatin1String("png")) {
        const double scale = dpi / 96.0;
        QImage image(size * scale, QImage::Format_ARGB32);
        image.setDotsPerMeterX(static_cast<int>(dpi / 0.0254));
        image.setDotsPerMeterY(static_cast<int>(dpi / 0.0254));
        image.fill(widget->palette().color(QPalette::Window));
        QPainter painter(&image);
        painter.scale(scale, scale);
        widget->render(&painter, {}, {}, QWidget::DrawChildren);
        painter.end();
        if (!image.save(&buffer, "PNG")) return QStringLiteral("%1: PNG encoding failed").arg(path);
    } else if (suffix == QLatin1String("svg")) {
        QSvgGenerator svg;
        svg.setOutputDevice(&buffer);
        svg.setSize(size);
        svg.setViewBox(QRect(QPoint(0, 0), size));
        svg.setTitle(widget->windowTitle());
        QPainter painter(&svg);
        widget->render(&painter, {}, {}, QWidget::DrawChildren);
    } else if (suffix == QLatin1String("pdf")) {
        QPdfWriter pdf(&buffer);
        pdf.setResolution(dpi);
        pdf.setPageSize(QPageSize(QSizeF(size.width() * 25.4 / 96.0, size.height() * 25.4 / 96.0), QPageSize::Millimeter));
        pdf.setPageMargins({0, 0, 0, 0});
        pdf.setTitle(widget->windowTitle());
        QPainter painter(&pdf);
        painter.scale(dpi / 96.0, dpi / 96.0);
        widget->render(&painter, {}, {}, QWidget::DrawChildren);
    } else {
        return QStringLiteral("%1: unknown figure format '%2' (png, svg or pdf)").arg(path, suffix);
    }
    buffer.close();
    return saveBytes(bytes, path);
}

QString exportText(const QString& text, const QString& path) { return saveBytes(text.toUtf8(), path); }

QString csvField(QString text) { return QLatin1Char('"') + text.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"'); }

}  // namespace spyglass::ui
