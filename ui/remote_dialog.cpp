#include "remote_dialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace spyglass::ui {

RemoteDialog::RemoteDialog(const RemoteTarget& current, QWidget* parent)
    : QDialog(parent), m_host(new QLineEdit(current.host)), m_cli(new QLineEdit(current.cliPath))
{
    setWindowTitle(tr("Remote (SSH) device"));
    m_host->setPlaceholderText(QStringLiteral("user@gpu-server"));
    m_host->setObjectName(QStringLiteral("remoteHost"));
    m_cli->setObjectName(QStringLiteral("remoteCli"));
    auto* about = new QLabel(
        tr("Runs go to <code>ssh HOST CLI serve --stdio</code>: SSH does the login and the encryption (use a key "
           "or an agent; Spyglass never asks for a password and opens no port). Model paths are the server's. "
           "The language tab's analyses and the Image tab's images run there; the other tabs run on this computer."));
    about->setWordWrap(true);
    auto* form = new QFormLayout;
    form->addRow(tr("Server (user@host)"), m_host);
    form->addRow(tr("spyglass-cli on the server"), m_cli);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    const auto update = [this, buttons] {
        buttons->button(QDialogButtonBox::Ok)->setEnabled(target().valid() && !target().host.isEmpty());
    };
    connect(m_host, &QLineEdit::textChanged, this, update);
    connect(m_cli, &QLineEdit::textChanged, this, update);
    update();
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(about);
    layout->addLayout(form);
    layout->addWidget(buttons);
}

RemoteTarget RemoteDialog::target() const
{
    return {m_host->text().trimmed(), m_cli->text().trimmed()};
}

std::optional<RemoteTarget> RemoteDialog::ask(const RemoteTarget& current, QWidget* parent)
{
    RemoteDialog dialog(current, parent);
    if (dialog.exec() != QDialog::Accepted) return std::nullopt;
    return dialog.target();
}

}  // namespace spyglass::ui
