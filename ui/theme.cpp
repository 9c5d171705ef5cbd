#include "theme.h"

#include <QApplication>
#include <QStyle>

namespace spyglass::ui {

QPalette darkPalette()
{
    QPalette p;
    const QColor window(0x2b, 0x2d, 0x31);
    const QColor base(0x1e, 0x1f, 0x22);
    const QColor text(0xe6, 0xe6, 0xe6);
    const QColor disabled(0x80, 0x80, 0x80);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::ToolTipBase, QColor(0x3c, 0x3f, 0x44));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, disabled);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::red);
    p.setColor(QPalette::Link, QColor(0x6c, 0xb6, 0xff));
    p.setColor(QPalette::Highlight, QColor(0x3d, 0x8e, 0xe6));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Light, QColor(0x45, 0x48, 0x4d));
    p.setColor(QPalette::Midlight, QColor(0x3a, 0x3c, 0x41));
    p.setColor(QPalette::Mid, QColor(0x25, 0x26, 0x29));
    p.setColor(QPalette::Dark, QColor(0x18, 0x19, 0x1b));
    p.setColor(QPalette::Shadow, Qt::black);
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabled);
    return p;
}

void applyTheme(Theme theme)
{
    switch (theme) {
        case Theme::Dark:
            QApplication::setPalette(darkPalette());
            break;
        case Theme::Light:
            QApplication::setPalette(QApplication::style()->standardPalette());
            break;
        case Theme::System:
            QApplication::setPalette(QPalette());
            break;
    }
}

Theme themeFromName(const QString& name)
{
    if (name == QLatin1String("dark")) return Theme::Dark;
    if (name == QLatin1String("light")) return Theme::Light;
    return Theme::System;
}

QString themeName(Theme theme)
{
    switch (theme) {
        case Theme::Dark:
            return QStringLiteral("dark");
        case Theme::Light:
            return QStringLiteral("light");
        case Theme::System:
            break;
    }
    return QStringLiteral("system");
}

}  // namespace spyglass::ui
