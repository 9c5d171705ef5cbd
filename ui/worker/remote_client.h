#pragma once
// RemoteClient — the app's end of `spyglass-cli serve --stdio` (docs/serve-protocol.md) on the
// Remote (SSH) device: starts `ssh HOST CLI serve --stdio` (RemoteTarget) on first use, sends an
// analysis as a typed "analyze" request, a section recompute as "section", the attention view's
// request as "attention", an A/B comparison as "compare", an activation-patching run as "patch",
// an image run as "diffuse" and a prompt-lab run as "lab" (the model, and the lab's runs, stay on
// the server between requests), turns progress, preview and update frames into progress, previews
// and an analysis's stages (streamed as a local run's are), the result into the matching result
// type (with interventions also the before/after diff), and "cancel" into a cancel frame.
// A connection that ends, never says hello, or speaks another protocol version fails the
// requests it carried with one message naming the host and what ssh or the server said (or, when
// it carried none, emits connectionLost with it); the next request starts a new connection. Never blocks the GUI
// thread. Thread safety: GUI thread only.
#include "views/report_types.h"
#include "worker/analysis_request.h"
#include "worker/attention_request.h"
#include "worker/compare_request.h"
#include "worker/diffusion_request.h"
#include "worker/lab_request.h"
#include "worker/patch_request.h"
#include "worker/remote_target.h"

#include "spyglass/serve_frames.h"

#include <QByteArray>
#include <QHash>
#include <QImage>
#include <QObject>
#include <QTimer>

class QProcess;

namespace spyglass::ui {

class RemoteClient : public QObject {
    Q_OBJECT
public:
    static constexpr int kProtocolVersion = 1;

    explicit RemoteClient(QObject* parent = nullptr);
    ~RemoteClient() override;

    // Another target closes the current connection (its requests fail as lost; an idle one closes
    // without a word).
    void setTarget(const RemoteTarget& target);
    [[nodiscard]] const RemoteTarget& target() const { return m_target; }
    // How long a new connection may take to say hello (ssh's own connect timeout is 15 s).
    void setHelloTimeout(int milliseconds) { m_helloTimer.setInterval(milliseconds); }
    void analyze(quint64 id, const AnalysisRequest& request);
    void section(quint64 id, const SectionRequest& request);
    void attention(quint64 id, const AttentionRequest& request);
    void diffuse(quint64 id, const DiffusionRequest& request);
    void compare(quint64 id, const CompareRequest& request);
    void patch(quint64 id, const PatchRequest& request);
    // A1111 LoRA tags in the options are resolved on the server; with exportDir the report's files
    // come back and are written there.
    void lab(quint64 id, const LabRequest& request);
    void cancel(quint64 id);
    [[nodiscard]] bool connected() const { return m_helloSeen; }
    // The server's hello (its version, runtime, CUDA) once connected; empty before.
    [[nodiscard]] QString serverDescription() const { return m_server; }

signals:
    void progressed(quint64 id, const QString& stage, int done, int total);
    // An analysis: each stage as the server computes it, then (with interventions) what they
    // changed, then the whole report, as from the local worker.
    void reportUpdated(quint64 id, const spyglass::core::ReportUpdate& update);
    void diffReady(quint64 id, const spyglass::ui::RunDiffPtr& diff);
    void reportReady(quint64 id, const spyglass::ui::ReportPtr& report);
    void imagePreviewReady(quint64 id, int step, int total, const QImage& image);
    void imageReady(quint64 id, const spyglass::ui::DiffusionResultPtr& result);
    void attentionReady(quint64 id, const spyglass::ui::AttentionOutcomePtr& outcome);
    void compareReady(quint64 id, const spyglass::ui::ComparisonPtr& comparison);
    void patchReady(quint64 id, const spyglass::ui::PatchOutcomePtr& outcome);
    void labReady(quint64 id, const spyglass::ui::LabResultPtr& result);
    void notice(quint64 id, const QString& text);
    void failed(quint64 id, const QString& message);
    void cancelled(quint64 id);
    void connectionLost(const QString& message);

private:
    enum class Kind { Analysis, Attention, Image, Compare, Patch, Lab };
    void start(quint64 id, Kind kind, const char* method, nlohmann::json params,
               std::vector<std::pair<std::string, std::string>> payloads = {});
    // The answer of a finished request of each kind (exit 0).
    void finishReport(quint64 id, const core::Frame& frame);
    void finishAttention(quint64 id, const core::Frame& frame);
    void finishImage(quint64 id, const core::Frame& frame);
    void finishCompare(quint64 id, const core::Frame& frame);
    void finishPatch(quint64 id, const core::Frame& frame);
    void finishLab(quint64 id, const core::Frame& frame);
    // A request that fails before it is sent (on the next turn of the event loop).
    void failLater(quint64 id, const QString& message);
    void forget(quint64 id);  // no longer in flight
    void ensureStarted();
    void send(const nlohmann::json& frame, const std::vector<std::pair<std::string, std::string>>& payloads = {});
    void readFrames();
    void handle(const core::Frame& frame);
    // Ends the connection: every request in flight fails with `why` (connectionLost when none and
    // `announce`).
    void lose(const QString& why, bool announce = true);
    [[nodiscard]] QString lastServerWords() const;
    [[nodiscard]] std::string source() const;  // "the answer from HOST", for error messages

    RemoteTarget m_target;
    QProcess* m_process = nullptr;
    core::FrameReader m_reader;
    bool m_helloSeen = false;
    QString m_server;
    QTimer m_helloTimer;
    QByteArray m_stderrTail;          // the last few lines ssh or the server wrote for people
    QHash<quint64, Kind> m_inFlight;  // sent, not yet answered
    // What the answers of these kinds carry back from their requests.
    QHash<quint64, PatchRequest> m_patches;
    QHash<quint64, LabRequest> m_labs;
};

}  // namespace spyglass::ui
