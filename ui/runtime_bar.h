#pragma once
// RuntimeBar — where every run goes (device, threads), shown once for all tabs (the tab bar's
// corner). It edits one RunSettings value. The device "Remote (SSH)…" asks for the server
// (RemoteDialog) each time it is chosen; cancelling keeps the previous device.
#include "run_settings.h"

#include <QWidget>

class QComboBox;
class QSpinBox;

namespace spyglass::ui {

class RuntimeBar : public QWidget {
    Q_OBJECT
public:
    explicit RuntimeBar(QWidget* parent = nullptr);
    [[nodiscard]] RunSettings settings() const;
    void setSettings(const RunSettings& settings);

signals:
    void changed(const spyglass::ui::RunSettings& settings);

private:
    void chooseRemote();
    void showRemote();

    QComboBox* m_device;
    QSpinBox* m_threads;
    RemoteTarget m_remote;
    int m_previous = 0;  // the device before "Remote (SSH)…" was chosen
};

}  // namespace spyglass::ui
