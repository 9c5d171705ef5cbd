#pragma once
// RuntimeBar — where every run goes (device, threads), shown once for all tabs (the tab bar's
// corner). It edits one RunSettings value.
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
    QComboBox* m_device;
    QSpinBox* m_threads;
};

}  // namespace spyglass::ui
