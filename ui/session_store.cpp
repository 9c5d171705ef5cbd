#include "session_store.h"

#include "spyglass/error.h"

#include <QDir>
#include <QStandardPaths>
#include <QtConcurrent/QtConcurrentRun>

namespace spyglass::ui {

namespace {

QString write(const core::Session& session, const QString& path)
{
    try {
        core::writeSession(session, path.toStdString());
        return {};
    } catch (const std::exception& e) {
        return QString::fromStdString(e.what());
    }
}

}  // namespace

SessionStore::SessionStore(QObject* parent) : QObject(parent)
{
    m_pool.setMaxThreadCount(1);  // writes stay in the order they were asked for
}

SessionStore::~SessionStore()
{
    m_pool.waitForDone();
}

void SessionStore::save(core::Session session, const QString& path)
{
    QtConcurrent::run(&m_pool, [session = std::move(session), path] {
        return write(session, path);
    }).then(this, [this, path](const QString& error) { emit saved(path, error); });
}

QString SessionStore::saveAndWait(core::Session session, const QString& path)
{
    return QtConcurrent::run(&m_pool, [session = std::move(session), path] { return write(session, path); }).result();
}

core::Session SessionStore::load(const QString& path)
{
    return core::readSession(path.toStdString());
}

QString SessionStore::autosavePath()
{
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    QDir().mkpath(dir);
    return QDir(dir).filePath(QStringLiteral("last.spyglass"));
}

}  // namespace spyglass::ui
