#pragma once
// Page — one tab of the main window (the language-model views, the Image tab, the Prompt lab).
// A page owns its widgets and its wiring: it subscribes to the RunController signals it shows and
// asks the controller for runs itself. The main window only composes pages and calls these.
#include <QImage>
#include <QString>
#include <QWidget>

namespace spyglass::ui {

class Page : public QWidget {
    Q_OBJECT
public:
    using QWidget::QWidget;

    // What Ctrl+Return does on this page (Run, Generate, Run the lab).
    virtual void runPage() = 0;
    // Writes what the page shows: a figure (.png/.svg/.pdf by suffix, `dpi` for PNG/PDF) or its
    // data (.csv). Returns "" or the reason, naming the file.
    [[nodiscard]] virtual QString exportView(const QString& path, int dpi) = 0;
    // What Edit ▸ Copy view as image puts on the clipboard.
    [[nodiscard]] virtual QImage viewImage() = 0;

signals:
    // One line for the status bar.
    void message(const QString& text);
};

}  // namespace spyglass::ui
