#include "run_controller.h"

#include "pages/image_inputs.h"

#include "worker/inference_service.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <utility>

namespace spyglass::ui {

RunController::RunController(QObject* parent) : QObject(parent), m_service(new InferenceService(this))
{
    connect(m_service, &InferenceService::reportUpdated, this, [this](const core::ReportUpdate& update) {
        if (!m_live) m_live = std::make_shared<core::Report>();
        try {
            core::applyUpdate(*m_live, update);
        } catch (const core::Error&) {
            return;  // a stage that does not fit (a misbehaving remote server): the final report decides
        }
        emit reportUpdated(m_live, update);
    });
    connect(m_service, &InferenceService::diffReady, this, [this](const RunDiffPtr& diff) { m_pendingDiff = diff; });
    connect(m_service, &InferenceService::reportReady, this, [this](const ReportPtr& report) {
        if (m_running == RunKind::Analysis) emit diffChanged(std::exchange(m_pendingDiff, nullptr));
        m_live.reset();
        m_report = report;
        m_reportModelPath = m_pendingModelPath;
        finish();
        emit reportChanged(report);
    });
    connect(m_service, &InferenceService::imagePreviewReady, this, &RunController::imagePreviewReady);
    connect(m_service, &InferenceService::imageReady, this, [this](const DiffusionResultPtr& result) {
        finish();
        emit imageReady(result);
    });
    connect(m_service, &InferenceService::labReady, this, [this](const LabResultPtr& result) {
        finish();
        emit labReady(result);
    });
    connect(m_service, &InferenceService::patchReady, this, [this](const PatchOutcomePtr& outcome) {
        finish();
        emit patchReady(outcome);
    });
    connect(m_service, &InferenceService::compareReady, this, [this](const ComparisonPtr& comparison) {
        finish();
        emit compareReady(comparison);
    });
    connect(m_service, &InferenceService::attentionReady, this, [this](const AttentionOutcomePtr& outcome) {
        finish();
        emit attentionReady(outcome);
    });
    connect(m_service, &InferenceService::progressed, this, &RunController::progressed);
    connect(m_service, &InferenceService::notice, this, &RunController::notice);
    connect(m_service, &InferenceService::generationFailed, this, [this](const QString& message) {
        m_live.reset();
        finish();
        emit failed(message);
    });
    connect(m_service, &InferenceService::remoteConnectionLost, this, &RunController::failed);
    connect(m_service, &InferenceService::generationCancelled, this, [this] {
        m_live.reset();
        finish();
        emit cancelled();
    });
}

void RunController::setRunSettings(const RunSettings& settings)
{
    m_settings = settings;
    // A connection is kept only while the Remote device is chosen (an idle one is closed quietly).
    m_service->setRemoteTarget(settings.device == QStringLiteral("remote") ? settings.remote : RemoteTarget{});
}

template <typename Request>
Request RunController::requestFor(const QString& modelPath) const
{
    Request request;
    request.modelPath = modelPath.trimmed();
    request.device = m_settings.device;
    request.threads = m_settings.threads;
    return request;
}

bool RunController::start(RunKind kind)
{
    m_running = kind;
    emit runStarted(kind);
    return true;
}

void RunController::finish()
{
    const RunKind kind = m_running;
    m_running = RunKind::None;
    emit runFinished(kind);
}

bool RunController::analyze(const QString& modelPath, const QString& prompt, const core::AnalysisOptions& options)
{
    if (modelPath.trimmed().isEmpty()) {
        emit failed(tr("Choose a model first (Open… beside Model)."));
        return false;
    }
    auto request = requestFor<AnalysisRequest>(modelPath);
    request.prompt = prompt;
    request.options = options;
    m_pendingModelPath = request.modelPath;
    m_live.reset();
    m_pendingDiff.reset();
    start(RunKind::Analysis);
    m_service->submitAnalysis(std::move(request));
    return true;
}

bool RunController::recomputeFactors(int k, int firstLayer, int endLayer, uint64_t seed)
{
    if (!m_report) return false;
    auto request = requestFor<SectionRequest>(m_reportModelPath);
    request.base = m_report;
    request.options.seed = seed;
    request.options.factorCount = k;
    request.options.factorLayerBegin = firstLayer;
    request.options.factorLayerEnd = endLayer;
    m_pendingModelPath = m_reportModelPath;
    start(RunKind::Section);
    m_service->submitSection(std::move(request));
    return true;
}

bool RunController::reproject(int layer, core::ProjectionSource source, uint64_t seed)
{
    if (!m_report) return false;
    auto request = requestFor<SectionRequest>(m_reportModelPath);
    request.section = SectionRequest::Section::Projection;
    request.base = m_report;
    request.options.seed = seed;
    request.options.projectionLayer = layer;
    request.options.projectionSource = source;
    m_pendingModelPath = m_reportModelPath;
    start(RunKind::Section);
    m_service->submitSection(std::move(request));
    return true;
}

bool RunController::generateImage(DiffusionRequest request)
{
    if (request.modelPath.trimmed().isEmpty()) {
        emit failed(tr("Choose an image model folder first (Image tab, Open…)."));
        return false;
    }
    auto full = requestFor<DiffusionRequest>(request.modelPath);
    full.options = std::move(request.options);
    full.load = std::move(request.load);
    // A1111 LoRA tags name files of the machine that runs: the Remote device's server resolves them.
    if (full.device != QStringLiteral("remote"))
        if (const QString error = resolveLoraTags(full.options.prompt, full.modelPath, full.load.loras);
            !error.isEmpty()) {
            emit failed(error);
            return false;
        }
    start(RunKind::Image);
    m_service->submitDiffusion(std::move(full));
    return true;
}

bool RunController::runLab(LabRequest request)
{
    if (request.modelPath.trimmed().isEmpty()) {
        emit failed(tr("Choose an image model folder first (Prompt lab tab, Open…)."));
        return false;
    }
    auto full = requestFor<LabRequest>(request.modelPath);
    full.options = std::move(request.options);
    full.load = std::move(request.load);
    full.mask = std::move(request.mask);
    full.exportDir = request.exportDir;
    full.loraFiles = std::move(request.loraFiles);
    if (full.device != QStringLiteral("remote")) {  // as generateImage
        core::LabOptions options = full.options;
        core::DiffusionLoadOptions load = full.load;
        if (const QString error = resolveLabLoraTags(options, full.modelPath, load, full.loraFiles); !error.isEmpty()) {
            emit failed(error);
            return false;
        }
        full.options = std::move(options);
        full.load = std::move(load);
    }
    start(RunKind::Lab);
    m_service->submitLab(std::move(full));
    return true;
}

bool RunController::runPatch(PatchRequest request)
{
    if (request.modelPath.trimmed().isEmpty()) {
        emit failed(tr("Choose a model first (Patching tab, Open…)."));
        return false;
    }
    auto full = requestFor<PatchRequest>(request.modelPath);
    full.clean = request.clean;
    full.corrupt = request.corrupt;
    full.answer = request.answer;
    full.wrong = request.wrong;
    full.site = request.site;
    full.interventions = std::move(request.interventions);
    start(RunKind::Patch);
    m_service->submitPatch(std::move(full));
    return true;
}

bool RunController::compare(const QString& modelPath, const QString& promptA, const QString& promptB,
                            const core::AnalysisOptions& options)
{
    if (modelPath.trimmed().isEmpty()) {
        emit failed(tr("Choose a model first (Compare A/B tab, Open…)."));
        return false;
    }
    auto request = requestFor<CompareRequest>(modelPath);
    request.promptA = promptA;
    request.promptB = promptB;
    request.options = options;
    start(RunKind::Compare);
    m_service->submitCompare(std::move(request));
    return true;
}

bool RunController::requestAttention(int position)
{
    if (!m_report || (busy() && m_running != RunKind::Attention)) return false;
    if (position < 0 || position >= static_cast<int>(m_report->tokens.size())) return false;
    auto request = requestFor<AttentionRequest>(m_reportModelPath);
    for (const auto& t : m_report->tokens) request.ids.push_back(t.id);
    request.position = position;
    const auto settings = QJsonDocument::fromJson(QByteArray::fromStdString(m_report->settingsJson)).object();
    for (const auto& spec : settings.value(QStringLiteral("interventions")).toArray())
        request.interventions.push_back(spec.toString().toStdString());
    start(RunKind::Attention);
    m_service->submitAttention(std::move(request));
    return true;
}

void RunController::cancel()
{
    m_service->cancel();
}

void RunController::showReport(const ReportPtr& report, const QString& modelPath)
{
    m_report = report;
    m_reportModelPath = modelPath;
    emit reportChanged(report);
}

}  // namespace spyglass::ui
