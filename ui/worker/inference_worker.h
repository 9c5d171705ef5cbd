#pragma once
// InferenceWorker — lives on the one inference thread and owns the loaded model (kept cached
// between runs). Requests carry ids; a run whose id is no longer the newest, or that was
// cancelled, stops at the next token. Every exception is caught here and becomes
// generationFailed: nothing reaches the event loop.
// Thread safety: run() executes on the worker thread; requestCancel()/setLatest() from any thread.
#include "worker/analysis_request.h"
#include "worker/attention_request.h"
#include "worker/compare_request.h"
#include "worker/diffusion_request.h"
#include "worker/generation_request.h"
#include "worker/lab_request.h"
#include "worker/patch_request.h"

#include <QImage>
#include <QObject>
#include <QStringList>
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
    void runAnalysis(const AnalysisRequest& request);
    void runSection(const SectionRequest& request);
    void runDiffusion(const DiffusionRequest& request);
    void runLab(const LabRequest& request);
    void runPatch(const PatchRequest& request);
    void runAttention(const AttentionRequest& request);
    void runCompare(const CompareRequest& request);

signals:
    void progressed(quint64 id, const QString& stage, int done, int total);
    void tokenGenerated(quint64 id, int tokenId, const QString& text);
    void generationFinished(quint64 id, const QString& text, const QVector<int>& generatedIds);
    void generationFailed(quint64 id, const QString& message);
    void generationCancelled(quint64 id);
    // Analysis: each stage as the engine computes it (prompt tokens, a token, its saliency rows and
    // lens column, factors, map), then the whole report.
    void reportUpdated(quint64 id, const spyglass::core::ReportUpdate& update);
    void reportReady(quint64 id, const spyglass::ui::ReportPtr& report);
    // With interventions: what they changed against the same run without them (before reportReady).
    void diffReady(quint64 id, const spyglass::ui::RunDiffPtr& diff);
    // Image generation: decoded previews every few steps, then the result.
    void imagePreviewReady(quint64 id, int step, int total, const QImage& image);
    void imageReady(quint64 id, const spyglass::ui::DiffusionResultPtr& result);
    void labReady(quint64 id, const spyglass::ui::LabResultPtr& result);
    void patchReady(quint64 id, const spyglass::ui::PatchOutcomePtr& outcome);
    void attentionReady(quint64 id, const spyglass::ui::AttentionOutcomePtr& outcome);
    void compareReady(quint64 id, const spyglass::ui::ComparisonPtr& comparison);
    // Something the user should know about a finished run (e.g. it stopped at the context window).
    void notice(quint64 id, const QString& text);

private:
    core::LanguageModel& model(const QString& path, const QString& device);
    core::DiffusionModel& diffusionModel(const QString& path, const QString& device,
                                         const core::DiffusionLoadOptions& load);
    [[nodiscard]] QString diffusionKey(const QString& path, const QString& device,
                                       const core::DiffusionLoadOptions& load) const;
    // The prompt lab's model for a run with these LoRA tags (m_labRequest's LoRAs plus the tags').
    core::DiffusionModel& labModel(const std::vector<core::LoraTag>& tags);
    core::ProgressCallback progressFor(quint64 id);
    template <typename Body>
    void guarded(quint64 id, int threads, Body&& body);
    // Sets `specs` on the cached model for `body`, then clears them (whatever body does).
    template <typename Body>
    void withInterventions(core::LanguageModel& model, const std::vector<std::string>& specs, Body&& body);

    std::atomic<quint64> m_latest{0};
    std::atomic<bool> m_cancelled{false};
    std::unique_ptr<core::LanguageModel> m_model;
    QString m_modelKey;
    std::unique_ptr<core::DiffusionModel> m_diffusion;
    QString m_diffusionKey;
    std::unique_ptr<core::PromptLab> m_lab;  // its cached runs belong to m_labKey's model and LoRAs
    QString m_labKey;
    LabRequest m_labRequest;  // the lab's current request (what labModel loads)
};

}  // namespace spyglass::ui
