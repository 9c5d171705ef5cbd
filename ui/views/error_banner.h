#pragma once
// ErrorBanner — a non-modal strip at the top of the window that shows why something failed,
// with a close button. Never blocks the user.
#include <QFrame>

class QLabel;

namespace spyglass::ui {

class ErrorBanner : public QFrame {
    Q_OBJECT
public:
    explicit ErrorBanner(QWidget* parent = nullptr);
    void showMessage(const QString& message);
    [[nodiscard]] QString message() const;

private:
    QLabel* m_label;
};

}  // namespace spyglass::ui
