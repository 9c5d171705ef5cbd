#pragma once
// WindowMenus — the main window's menu bar: File (models, sessions, exports, recent models and
// prompts), Edit (copy the view), View (theme), Examples. Every action calls the window's public
// API; the recent lists live in QSettings.
#include <QObject>

class QMenu;

namespace spyglass::ui {

class MainWindow;

class WindowMenus : public QObject {
    Q_OBJECT
public:
    explicit WindowMenus(MainWindow* window);

    // Puts `value` first in the recent list `key` ("recentModels", "recentPrompts").
    void remember(const QString& key, const QString& value);

private:
    void buildFile();
    void buildEditAndView();
    void buildExamples();
    void exportFigureAsked();
    void rebuildRecent();

    MainWindow* m_window;
    QMenu* m_recentModels = nullptr;
    QMenu* m_recentPrompts = nullptr;
};

}  // namespace spyglass::ui
