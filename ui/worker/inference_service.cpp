#include "worker/inference_service.h"

#include "worker/inference_worker.h"
#include "worker/remote_client.h"

#include <type_traits>
#include <utility>

namespace spyglass::ui {

InferenceService::InferenceService(QObject* parent) : QObject(parent), m_worker(new InferenceWorker)
{
    qRegisterMetaType<ReportPtr>();
    qRegisterMetaType<RunDiffPtr>();
    qRegisterMetaType<ComparisonPtr>();
    qRegisterMetaType<core::ReportUpdate>();
    qRegisterMetaType<DiffusionResultPtr>();
    qRegisterMetaType<LabResultPtr>();
    qRegisterMetaType<PatchOutcomePtr>();
    qRegisterMetaType<AttentionOutcomePtr>();
    m_thread.setObjectName(QStringLiteral("spyglass-inference"));
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    // Drop whatever a superseded request still emits.
    connect(m_worker, &InferenceWorker::progressed, this, [this](quint64 id, const QString& s, int d, int t) {
        if (id == m_latest) emit progressed(s, d, t);
    });
    connect(m_worker, &InferenceWorker::tokenGenerated, this, [this](quint64 id, int token, const QString& text) {
        if (id == m_latest) emit tokenGenerated(token, text);
    });
    connect(m_worker, &InferenceWorker::generationFinished, this,
            [this](quint64 id, const QString& text, const QVector<int>& ids) {
                if (id == m_latest) emit generationFinished(text, ids);
            });
    connect(m_worker, &InferenceWorker::generationFailed, this, [this](quint64 id, const QString& message) {
        if (id == m_latest) emit generationFailed(message);
    });
    connect(m_worker, &InferenceWorker::generationCancelled, this, [this](quint64 id) {
        if (id == m_latest) emit generationCancelled();
    });
    connect(m_worker, &InferenceWorker::reportUpdated, this, [this](quint64 id, const core::ReportUpdate& update) {
        if (id == m_latest) emit reportUpdated(update);
    });
    connect(m_worker, &InferenceWorker::reportReady, this, [this](quint64 id, const ReportPtr& report) {
        if (id == m_latest) emit reportReady(report);
    });
    connect(m_worker, &InferenceWorker::imagePreviewReady, this,
            [this](quint64 id, int step, int total, const QImage& image) {
                if (id == m_latest) emit imagePreviewReady(step, total, image);
            });
    connect(m_worker, &InferenceWorker::imageReady, this, [this](quint64 id, const DiffusionResultPtr& result) {
        if (id == m_latest) emit imageReady(result);
    });
    connect(m_worker, &InferenceWorker::notice, this, [this](quint64 id, const QString& text) {
        if (id == m_latest) emit notice(text);
    });
    connect(m_worker, &InferenceWorker::labReady, this, [this](quint64 id, const LabResultPtr& result) {
        if (id == m_latest) emit labReady(result);
    });
    connect(m_worker, &InferenceWorker::compareReady, this, [this](quint64 id, const ComparisonPtr& comparison) {
        if (id == m_latest) emit compareReady(comparison);
    });
    connect(m_worker, &InferenceWorker::diffReady, this, [this](quint64 id, const RunDiffPtr& diff) {
        if (id == m_latest) emit diffReady(diff);
    });
    connect(m_worker, &InferenceWorker::patchReady, this, [this](quint64 id, const PatchOutcomePtr& outcome) {
        if (id == m_latest) emit patchReady(outcome);
    });
    connect(m_worker, &InferenceWorker::attentionReady, this, [this](quint64 id, const AttentionOutcomePtr& outcome) {
        if (id == m_latest) emit attentionReady(outcome);
    });
    connectRemote();
    m_thread.start();
}

void InferenceService::connectRemote()
{
    m_remote = new RemoteClient(this);
    connect(m_remote, &RemoteClient::progressed, this, [this](quint64 id, const QString& s, int d, int t) {
        if (id == m_latest) emit progressed(s, d, t);
    });
    connect(m_remote, &RemoteClient::reportUpdated, this, [this](quint64 id, const core::ReportUpdate& update) {
        if (id == m_latest) emit reportUpdated(update);
    });
    connect(m_remote, &RemoteClient::diffReady, this, [this](quint64 id, const RunDiffPtr& diff) {
        if (id == m_latest) emit diffReady(diff);
    });
    connect(m_remote, &RemoteClient::reportReady, this, [this](quint64 id, const ReportPtr& report) {
        if (id == m_latest) emit reportReady(report);
    });
    connect(m_remote, &RemoteClient::imagePreviewReady, this,
            [this](quint64 id, int step, int total, const QImage& image) {
                if (id == m_latest) emit imagePreviewReady(step, total, image);
            });
    connect(m_remote, &RemoteClient::imageReady, this, [this](quint64 id, const DiffusionResultPtr& result) {
        if (id == m_latest) emit imageReady(result);
    });
    connect(m_remote, &RemoteClient::attentionReady, this, [this](quint64 id, const AttentionOutcomePtr& outcome) {
        if (id == m_latest) emit attentionReady(outcome);
    });
    connect(m_remote, &RemoteClient::compareReady, this, [this](quint64 id, const ComparisonPtr& comparison) {
        if (id == m_latest) emit compareReady(comparison);
    });
    connect(m_remote, &RemoteClient::patchReady, this, [this](quint64 id, const PatchOutcomePtr& outcome) {
        if (id == m_latest) emit patchReady(outcome);
    });
    connect(m_remote, &RemoteClient::labReady, this, [this](quint64 id, const LabResultPtr& result) {
        if (id == m_latest) emit labReady(result);
    });
    connect(m_remote, &RemoteClient::notice, this, [this](quint64 id, const QString& text) {
        if (id == m_latest) emit notice(text);
    });
    connect(m_remote, &RemoteClient::failed, this, [this](quint64 id, const QString& message) {
        if (id == m_latest) emit generationFailed(message);
    });
    connect(m_remote, &RemoteClient::cancelled, this, [this](quint64 id) {
        if (id == m_latest) emit generationCancelled();
    });
    connect(m_remote, &RemoteClient::connectionLost, this, &InferenceService::remoteConnectionLost);
}

void InferenceService::setRemoteTarget(const RemoteTarget& target)
{
    m_remote->setTarget(target);
}

InferenceService::~InferenceService()
{
    m_worker->requestCancel();
    m_thread.quit();
    m_thread.wait();
}

template <typename Request>
quint64 InferenceService::dispatch(Request request, void (InferenceWorker::*run)(const Request&), const QString& what)
{
    request.id = ++m_latest;
    m_worker->setLatest(request.id);  // older runs stop at their next check
    if (m_remoteRunning) m_remote->cancel(std::exchange(m_remoteRunning, 0));
    if (request.device == QStringLiteral("remote")) {
        const quint64 id = request.id;
        if (what.isEmpty()) {
            if constexpr (std::is_same_v<Request, DiffusionRequest>) m_remote->diffuse(id, request);
            if constexpr (std::is_same_v<Request, SectionRequest>) m_remote->section(id, request);
            if constexpr (std::is_same_v<Request, AttentionRequest>) m_remote->attention(id, request);
            if constexpr (std::is_same_v<Request, CompareRequest>) m_remote->compare(id, request);
            if constexpr (std::is_same_v<Request, PatchRequest>) m_remote->patch(id, request);
            if constexpr (std::is_same_v<Request, LabRequest>) m_remote->lab(id, request);
            if constexpr (std::is_same_v<Request, AnalysisRequest>) m_remote->analyze(id, request);
            m_remoteRunning = id;
        } else {
            QMetaObject::invokeMethod(
                this,
                [this, id, what] {
                    if (id == m_latest)
                        emit generationFailed(
                            tr("%1 runs on this computer only in this version: choose CPU or CUDA "
                               "under Device (the Remote device runs the analyses, attention, Compare A/B, "
                               "patching, images and the prompt lab)")
                                .arg(what));
                },
                Qt::QueuedConnection);
        }
        return id;
    }
    InferenceWorker* worker = m_worker;
    QMetaObject::invokeMethod(
        worker, [worker, run, request] { (worker->*run)(request); }, Qt::QueuedConnection);
    return request.id;
}

quint64 InferenceService::submit(GenerationRequest request)
{
    return dispatch(std::move(request), &InferenceWorker::run, tr("Generation"));
}
quint64 InferenceService::submitAnalysis(AnalysisRequest request)
{
    return dispatch(std::move(request), &InferenceWorker::runAnalysis, QString());
}
quint64 InferenceService::submitSection(SectionRequest request)
{
    return dispatch(std::move(request), &InferenceWorker::runSection, QString());
}
quint64 InferenceService::submitDiffusion(DiffusionRequest request)
{
    return dispatch(std::move(request), &InferenceWorker::runDiffusion, QString());
}
quint64 InferenceService::submitLab(LabRequest request)
{
    return dispatch(std::move(request), &InferenceWorker::runLab, QString());
}

quint64 InferenceService::submitPatch(PatchRequest request)
{
    return dispatch(std::move(request), &InferenceWorker::runPatch, QString());
}

quint64 InferenceService::submitCompare(CompareRequest request)
{
    return dispatch(std::move(request), &InferenceWorker::runCompare, QString());
}

quint64 InferenceService::submitAttention(AttentionRequest request)
{
    return dispatch(std::move(request), &InferenceWorker::runAttention, QString());
}

void InferenceService::cancel()
{
    m_worker->requestCancel();
    if (m_remoteRunning) m_remote->cancel(m_remoteRunning);
}

}  // namespace spyglass::ui
