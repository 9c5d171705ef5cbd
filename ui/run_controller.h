#pragma once
// RunController — the app's one way into the inference thread. Pages ask it for runs (an
// analysis, a section recompute, an image, a prompt-lab run); it builds each request from the
// run settings (device, threads), submits it, owns the current report and the live one, and
// tells every subscriber what happened. Pages subscribe to the signals they show; the main window
// only composes.
//
//   controller->analyze(modelPath, prompt, settings.options());
//   connect(controller, &RunController::reportChanged, page, &Page::showReport);
//
// Runs flow one way: the engine publishes stages (core::ReportUpdate) as it computes them; the
// controller applies each to its live report with core::applyUpdate (the engine's own code, at
// the cost of what the stage adds) and forwards it; the final report then replaces the live one.
// Thread safety: GUI thread only.
#include "run_settings.h"
#include "views/report_types.h"
#include "worker/analysis_request.h"
#include "worker/attention_request.h"
#include "worker/compare_request.h"
#include "worker/diffusion_request.h"
#include "worker/lab_request.h"
#include "worker/patch_request.h"

#include <QObject>

namespace spyglass::ui {

class InferenceService;

class RunController : public QObject {
    Q_OBJECT
public:
    enum class RunKind { None, Analysis, Section, Image, Lab, Patch, Attention, Compare };

    explicit RunController(QObject* parent = nullptr);

    void setRunSettings(const RunSettings& settings);
    [[nodiscard]] const RunSettings& runSettings() const { return m_settings; }

    // Each returns false (and emits failed) when the request cannot start, e.g. no model chosen.
    bool analyze(const QString& modelPath, const QString& prompt, const core::AnalysisOptions& options);
    // Another k / layer range of the factors, or another layer / source of the 2-D map, of the
    // current report (with the model it was made with).
    bool recomputeFactors(int k, int firstLayer, int endLayer, uint64_t seed);
    bool reproject(int layer, core::ProjectionSource source, uint64_t seed);
    bool generateImage(DiffusionRequest request);
    bool runLab(LabRequest request);
    bool runPatch(PatchRequest request);
    // Two prompts with the same options (the Compare A/B tab).
    bool compare(const QString& modelPath, const QString& promptA, const QString& promptB,
                 const core::AnalysisOptions& options);
    // The attention of the current report's token at `position` (with the report's model and
    // interventions); false when there is no report or a run is going.
    bool requestAttention(int position);
    void cancel();

    // The report the views show (null before the first run) and its model folder.
    [[nodiscard]] const ReportPtr& report() const { return m_report; }
    [[nodiscard]] const QString& reportModelPath() const { return m_reportModelPath; }
    // A report from elsewhere (an opened session): shown as if it had just been computed.
    void showReport(const ReportPtr& report, const QString& modelPath);
    [[nodiscard]] bool busy() const { return m_running != RunKind::None; }
    [[nodiscard]] RunKind running() const { return m_running; }
    [[nodiscard]] InferenceService* service() const { return m_service; }

signals:
    void runStarted(spyglass::ui::RunController::RunKind kind);
    // A stage of the running analysis; `live` is the report so far (prompt tokens, rows, columns…).
    void reportUpdated(const spyglass::ui::ReportPtr& live, const spyglass::core::ReportUpdate& update);
    // A finished analysis or recompute, or an opened session.
    void reportChanged(const spyglass::ui::ReportPtr& report);
    // After each analysis (before reportChanged): what its interventions changed, null without any.
    void diffChanged(const spyglass::ui::RunDiffPtr& diff);
    void imagePreviewReady(int step, int total, const QImage& image);
    void imageReady(const spyglass::ui::DiffusionResultPtr& result);
    void labReady(const spyglass::ui::LabResultPtr& result);
    void patchReady(const spyglass::ui::PatchOutcomePtr& outcome);
    void compareReady(const spyglass::ui::ComparisonPtr& comparison);
    void attentionReady(const spyglass::ui::AttentionOutcomePtr& outcome);
    void progressed(const QString& stage, int done, int total);
    void notice(const QString& text);
    // A run failed, or the remote device's connection ended while idle.
    void failed(const QString& message);
    void cancelled();
    // Every run ends here (done, failed or cancelled): busy() is false again.
    void runFinished(spyglass::ui::RunController::RunKind kind);

private:
    bool start(RunKind kind);
    void finish();
    template <typename Request>
    Request requestFor(const QString& modelPath) const;

    InferenceService* m_service;
    RunSettings m_settings;
    RunKind m_running = RunKind::None;
    ReportPtr m_report;
    RunDiffPtr m_pendingDiff;  // from the running analysis
    QString m_reportModelPath;
    QString m_pendingModelPath;
    std::shared_ptr<core::Report> m_live;
};

}  // namespace spyglass::ui
