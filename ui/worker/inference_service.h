#pragma once
// InferenceService — the GUI's handle on the inference thread: submit() gives a request the next
// id and makes it the newest (older runs stop); only the newest request's signals come out.
// Requests for the "remote" device go to a spyglass-cli serve over SSH (RemoteClient) instead:
// everything but the plain token generation runs there (that one is refused with a message).
// Thread safety: use from the GUI thread.
#include "worker/analysis_request.h"
#include "worker/attention_request.h"
#include "worker/compare_request.h"
#include "worker/diffusion_request.h"
#include "worker/generation_request.h"
#include "worker/lab_request.h"
#include "worker/patch_request.h"
#include "worker/remote_target.h"

#include <QImage>
#include <QObject>
#include <QStringList>
#include <QThread>
#include <QVector>

namespace spyglass::ui {

class InferenceWorker;
class RemoteClient;

class InferenceService : public QObject {
    Q_OBJECT
public:
    explicit InferenceService(QObject* parent = nullptr);
    ~InferenceService() override;

    quint64 submit(GenerationRequest request);
    quint64 submitAnalysis(AnalysisRequest request);
    quint64 submitSection(SectionRequest request);
    quint64 submitDiffusion(DiffusionRequest request);
    quint64 submitLab(LabRequest request);
    quint64 submitPatch(PatchRequest request);
    quint64 submitCompare(CompareRequest request);
    quint64 submitAttention(AttentionRequest request);
    void cancel();
    [[nodiscard]] quint64 latest() const { return m_latest; }
    // Where "remote" requests go; another target closes the current connection.
    void setRemoteTarget(const RemoteTarget& target);
    [[nodiscard]] RemoteClient* remote() const { return m_remote; }

signals:
    void progressed(const QString& stage, int done, int total);
    void tokenGenerated(int tokenId, const QString& text);
    void generationFinished(const QString& text, const QVector<int>& generatedIds);
    void generationFailed(const QString& message);
    void generationCancelled();
    // A stage of the running analysis (see core/report_update.h), then the whole report.
    void reportUpdated(const spyglass::core::ReportUpdate& update);
    void reportReady(const spyglass::ui::ReportPtr& report);
    void diffReady(const spyglass::ui::RunDiffPtr& diff);
    void imagePreviewReady(int step, int total, const QImage& image);
    void imageReady(const spyglass::ui::DiffusionResultPtr& result);
    void labReady(const spyglass::ui::LabResultPtr& result);
    void patchReady(const spyglass::ui::PatchOutcomePtr& outcome);
    void compareReady(const spyglass::ui::ComparisonPtr& comparison);
    void attentionReady(const spyglass::ui::AttentionOutcomePtr& outcome);
    void notice(const QString& text);
    // The remote device's connection ended (also when no run was going): the banner's text.
    void remoteConnectionLost(const QString& message);

private:
    template <typename Request>
    quint64 dispatch(Request request, void (InferenceWorker::*run)(const Request&), const QString& what);
    void connectRemote();

    QThread m_thread;
    InferenceWorker* m_worker = nullptr;
    RemoteClient* m_remote = nullptr;
    quint64 m_latest = 0;
    quint64 m_remoteRunning = 0;  // the newest request sent to the remote device (0: none)
};

}  // namespace spyglass::ui
