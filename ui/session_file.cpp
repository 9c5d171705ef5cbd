#include "session_file.h"

#include "spyglass/atomic_write.h"
#include "spyglass/error.h"
#include "spyglass/report_json.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QSaveFile>
#include <QStandardPaths>

namespace spyglass::ui {

QString saveSession(const Session& session, const QString& path)
{
    QJsonObject root;
    root[QStringLiteral("schema")] = QString::fromLatin1(kSessionSchema);
    root[QStringLiteral("prompt")] = session.prompt;
    QJsonObject model{{QStringLiteral("path"), session.modelPath}};
    if (session.report) model[QStringLiteral("sha256")] = QString::fromStdString(session.report->model.sha256);
    root[QStringLiteral("model")] = model;
    root[QStringLiteral("settings")] = session.settings;
    root[QStringLiteral("view")] = session.view;
    if (session.report)
        root[QStringLiteral("report")] = QJsonDocument::fromJson(QByteArray::fromStdString(core::reportToJson(*session.report))).object();
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return QStringLiteral("%1: cannot write: %2").arg(path, file.errorString());
    const QByteArray bytes = QJsonDocument(root).toJson(QJsonDocument::Compact);
    const qsizetype half = bytes.size() / 2;
    file.write(bytes.constData(), half);
    file.flush();
    core::pauseMidWriteForTests();  // fault injection for the kill-during-save test; no-op otherwise
    file.write(bytes.constData() + half, bytes.size() - half);
    if (!file.commit()) return QStringLiteral("%1: cannot write: %2").arg(path, file.errorString());
    return {};
}

Session loadSession(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) throw core::Error(path.toStdString() + ": cannot open: " + file.errorString().toStdString());
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    if (doc.isNull()) throw core::Error(path.toStdString() + ": not valid JSON: " + error.errorString().toStdString());
    const QJsonObject root = doc.object();
    if (root.value(QStringLiteral("schema")).toString() != QLatin1String(kSessionSchema))
        throw core::Error(path.toStdString() + ": not a Spyglass session (schema '" + root.value(QStringLiteral("schema")).toString().toStdString() +
                          "', expected " + kSessionSchema + ")");
    Session s;
    s.prompt = root.value(QStringLiteral("prompt")).toString();
    s.modelPath = root.value(QStringLiteral("model")).toObject().value(QStringLiteral("path")).toString();
    s.settings = root.value(QStringLiteral("settings")).toObject();
    s.view = root.value(QStringLiteral("view")).toObject();
    if (root.contains(QStringLiteral("report")))
        s.report = std::make_shared<const core::Report>(core::reportFromJson(
            QJsonDocument(root.value(QStringLiteral("report")).toObject()).toJson(QJsonDocument::Compact).toStdString(), path.toStdString()));
    return s;
}

QString autosavePath()
{
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    QDir().mkpath(dir);
    return QDir(dir).filePath(QStringLiteral("last.spyglass"));
}

}  // namespace spyglass::ui
