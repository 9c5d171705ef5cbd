#pragma once
// RunProgress — the status bar's progress of the current run (stage, done/total) and its Cancel
// button (Esc does the same), for every kind of run.
#include <QWidget>

class QProgressBar;
class QPushButton;

namespace spyglass::ui {

class RunController;

class RunProgress : public QWidget {
    Q_OBJECT
public:
    explicit RunProgress(RunController* controller, QWidget* parent = nullptr);
    [[nodiscard]] QString text() const;

private:
    QProgressBar* m_bar;
    QPushButton* m_cancel;
};

}  // namespace spyglass::ui
