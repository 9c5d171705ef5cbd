#pragma once
// SessionBinding — what a session file holds of the window and back: the language page's prompt,
// model, settings, view and selection, the run settings, the current tab and the report.
// Thread safety: GUI thread only (capture() copies; the session can then be written elsewhere).
#include "spyglass/session.h"

class QTabWidget;

namespace spyglass::ui {

class LanguagePage;
class RunController;
class RuntimeBar;

class SessionBinding {
public:
    SessionBinding(LanguagePage* language, RuntimeBar* runtime, QTabWidget* tabs, RunController* controller);

    [[nodiscard]] core::Session capture() const;
    // Shows `session` as if it had just been computed (nothing runs). Throws on a malformed view.
    void restore(const core::Session& session);

private:
    LanguagePage* m_language;
    RuntimeBar* m_runtime;
    QTabWidget* m_tabs;
    RunController* m_controller;
};

}  // namespace spyglass::ui
