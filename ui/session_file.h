#pragma once
// Session files (.spyglass, JSON "spyglass.session/1"): the prompt, the model path and its
// sha256, every setting, the whole report and the view state, so reopening shows the same views
// without recomputing. Written atomically (QSaveFile).
#include "worker/analysis_request.h"

#include <QJsonObject>
#include <QString>

namespace spyglass::ui {

struct Session {
    QString prompt;
    QString modelPath;
    QJsonObject settings;  // the settings panel
    QJsonObject view;      // tab, selected position, …
    ReportPtr report;      // may be null (a session saved before any run)
};

inline constexpr const char* kSessionSchema = "spyglass.session/1";

// Empty string on success, else the reason naming the file.
QString saveSession(const Session& session, const QString& path);
// Throws core::Error naming the file and the reason.
Session loadSession(const QString& path);
// Where the last session is saved automatically after every run.
QString autosavePath();

}  // namespace spyglass::ui
