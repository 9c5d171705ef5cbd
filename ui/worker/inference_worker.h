#pragma once
// InferenceWorker — lives on the one inference thread and owns the loaded model (kept cached
// between runs). Requests carry ids; a run whose id is no longer the newest, or that was
// cancelled, stops at the next token. Every exception is caught here and becomes
// generationFailed: nothing reaches the event loop.
// Thread safety: run() executes on the worker thread; requestCancel()/setLatest() from any thread.
#include "worker/generation_request.h"

#include <QObject>
#include <QVector>

#include <atomic>
#include <memory>

namespace spyglass::ui {

class InferenceWorker : public QObject {
    Q_OBJECT
public:
    InferenceWorker();
    ~InferenceWorker() override;

    void requestCancel() { m_cancelled = true; }
    void setLatest(quint64 id)
    {
        m_latest = id;
        m_cancelled = false;
    }
    void run(const GenerationRequest& request);

signals:
    void progressed(quint64 id, const QString& stage, int done, int total);
    void tokenGenerated(quint64 id, int tokenId, const QString& text);
    void generationFinished(quint64 id, const QString& text, const QVector<int>& generatedIds);
    void generationFailed(quint64 id, const QString& message);
    void generationCancelled(quint64 id);

private:
    core::LanguageModel& model(const GenerationRequest& request);

    std::atomic<quint64> m_latest{0};
    std::atomic<bool> m_cancelled{false};
    std::unique_ptr<core::LanguageModel> m_model;
    QString m_modelKey;
};

}  // namespace spyglass::ui
