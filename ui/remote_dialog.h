#pragma once
// RemoteDialog — asks where the Remote (SSH) device is: the server as ssh takes it (user@host or
// a Host alias of ~/.ssh/config) and the path of spyglass-cli there. Authentication is SSH's: a
// key or an agent (ssh runs in batch mode and never asks for a password).
#include "worker/remote_target.h"

#include <QDialog>

#include <optional>

class QLineEdit;

namespace spyglass::ui {

class RemoteDialog : public QDialog {
    Q_OBJECT
public:
    explicit RemoteDialog(const RemoteTarget& current, QWidget* parent = nullptr);
    [[nodiscard]] RemoteTarget target() const;
    // The dialog, modal; nullopt when cancelled.
    [[nodiscard]] static std::optional<RemoteTarget> ask(const RemoteTarget& current, QWidget* parent);

private:
    QLineEdit* m_host;
    QLineEdit* m_cli;
};

}  // namespace spyglass::ui
