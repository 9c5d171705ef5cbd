#include "views/error_banner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>

namespace spyglass::ui {

ErrorBanner::ErrorBanner(QWidget* parent) : QFrame(parent), m_label(new QLabel(this))
{
    setObjectName(QStringLiteral("errorBanner"));
    setStyleSheet(
        QStringLiteral("#errorBanner { background: #fde2e1; border: 1px solid #e0a09d; border-radius: 4px; }"));
    m_label->setWordWrap(true);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* close = new QToolButton(this);
    close->setText(QStringLiteral("✕"));
    close->setAutoRaise(true);
    close->setToolTip(tr("Dismiss"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 4, 4);
    layout->addWidget(m_label, 1);
    layout->addWidget(close, 0, Qt::AlignTop);
    connect(close, &QToolButton::clicked, this, &QWidget::hide);
    hide();
}

void ErrorBanner::showMessage(const QString& message)
{
    m_label->setText(message);
    show();
}

QString ErrorBanner::message() const
{
    return m_label->text();
}

}  // namespace spyglass::ui
