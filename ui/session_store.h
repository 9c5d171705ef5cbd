#pragma once
// SessionStore — writes session files away from the GUI thread, one at a time and in order, each
// atomically (core::writeSession: a kill mid-write leaves the previous file). The report inside a
// session is shared and immutable, so the window keeps showing it while it is written.
// Thread safety: use from the GUI thread; the writes run on the store's own pool thread.
#include "spyglass/session.h"

#include <QObject>
#include <QThreadPool>

namespace spyglass::ui {

class SessionStore : public QObject {
    Q_OBJECT
public:
    explicit SessionStore(QObject* parent = nullptr);
    ~SessionStore() override;  // waits for the queued writes

    // Queues a write; saved() follows on the GUI thread.
    void save(core::Session session, const QString& path);
    // Writes now (still on the store's thread, in order after the queued ones) and waits: "" or the
    // reason naming the file.
    QString saveAndWait(core::Session session, const QString& path);
    // Reads a session (small work: on the calling thread). Throws core::Error naming the file.
    [[nodiscard]] static core::Session load(const QString& path);
    // Where the last run is saved automatically.
    [[nodiscard]] static QString autosavePath();

signals:
    void saved(const QString& path, const QString& error);

private:
    QThreadPool m_pool;
};

}  // namespace spyglass::ui
