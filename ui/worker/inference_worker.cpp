#include "worker/inference_worker.h"

#include "spyglass/error.h"
#include "spyglass/lora_files.h"
#include "spyglass/runtime.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>

#include <algorithm>
#include <new>

namespace spyglass::ui {

namespace {

// What identifies a model on disk: its files (and those of its visible subfolders, the
// components of a diffusers folder) with size and modification time, or the file itself. A
// changed stamp means the weights were rewritten (a training run saving again) and are loaded
// afresh. Empty when the path does not exist.
QString diskStamp(const QString& path)
{
    const QFileInfo info(path);
    if (!info.exists()) return {};
    QString stamp;
    auto add = [&](const QFileInfo& f) {
        stamp += f.filePath() + QLatin1Char(':') + QString::number(f.size()) + QLatin1Char(':') +
                 QString::number(f.lastModified().toMSecsSinceEpoch()) + QLatin1Char(';');
    };
    if (!info.isDir()) {
        add(info);
        return stamp;
    }
    const QDir dir(path);
    for (const QFileInfo& f : dir.entryInfoList(QDir::Files, QDir::Name)) add(f);
    for (const QFileInfo& sub : dir.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
        for (const QFileInfo& f : QDir(sub.filePath()).entryInfoList(QDir::Files, QDir::Name)) add(f);
    return stamp;
}

// The cache key of `path` on `device`, or an Error when the model that `cachedKey` holds was
// deleted or moved since it was loaded (a path never loaded is left to the loader's message).
QString cacheKey(const QString& path, const QString& device, const QString& cachedKey)
{
    const QString prefix = path + QLatin1Char('|') + device + QLatin1Char('|');
    const QString stamp = diskStamp(path);
    if (stamp.isEmpty() && cachedKey.startsWith(prefix))
        throw core::Error("model '" + path.toStdString() +
                          "': no longer exists (deleted or moved after it was loaded); open another model");
    return prefix + stamp;
}

}  // namespace

InferenceWorker::InferenceWorker() = default;
InferenceWorker::~InferenceWorker() = default;

core::LanguageModel& InferenceWorker::model(const QString& path, const QString& device)
{
    QString key;
    try {
        key = cacheKey(path, device, m_modelKey);
    } catch (const core::Error&) {
        m_model.reset();  // the vanished model's memory goes back too
        m_modelKey.clear();
        throw;
    }
    if (!m_model || key != m_modelKey) {
        m_model.reset();
        m_model = core::LanguageModel::load(path.toStdString(), {.device = device.toStdString(), .tokenizer = {}});
        m_modelKey = key;
    }
    return *m_model;
}

QString InferenceWorker::diffusionKey(const QString& path, const QString& device,
                                      const core::DiffusionLoadOptions& load) const
{
    // The LoRAs (files, their disk stamps, strengths) are part of the model: a change reloads.
    QString loras;
    for (const auto& l : load.loras)
        loras += QStringLiteral("|lora:%1:%2:%3")
                     .arg(QString::fromStdString(l.path.string()))
                     .arg(l.strength, 0, 'g', 17)
                     .arg(diskStamp(QString::fromStdString(l.path.string())));
    loras += QStringLiteral("|config:%1|vae:%2|prediction:%3")
                 .arg(QString::fromStdString(load.configDir.string()), QString::fromStdString(load.vaePath.string()),
                      QString::fromStdString(load.predictionType));
    return cacheKey(path, device, m_diffusionKey) + loras;
}

core::DiffusionModel& InferenceWorker::diffusionModel(const QString& path, const QString& device,
                                                      const core::DiffusionLoadOptions& load)
{
    QString key;
    try {
        key = diffusionKey(path, device, load);
    } catch (const core::Error&) {
        m_lab.reset();
        m_diffusion.reset();
        m_diffusionKey.clear();
        throw;
    }
    if (!m_diffusion || key != m_diffusionKey) {
        m_diffusion.reset();
        m_diffusion = core::DiffusionModel::load(path.toStdString(), device.toStdString(), load);
        m_diffusionKey = key;
    }
    return *m_diffusion;
}

core::ProgressCallback InferenceWorker::progressFor(quint64 id)
{
    // Cancels when asked or superseded; signals at most ~10 times a second, and at each stage's
    // start and end.
    auto throttle = std::make_shared<QElapsedTimer>();
    auto stage = std::make_shared<std::string>();
    throttle->start();
    return [this, id, throttle, stage](const core::Progress& p) {
        if (m_cancelled || id != m_latest) return false;
        if (throttle->elapsed() >= 100 || p.done == p.total || p.stage != *stage) {
            emit progressed(id, QString::fromStdString(p.stage), p.done, p.total);
            throttle->restart();
            *stage = p.stage;
        }
        return true;
    };
}

template <typename Body>
void InferenceWorker::guarded(quint64 id, int threads, Body&& body)
{
    if (id != m_latest) return;  // superseded before it started
    try {
        core::setThreadCount(threads);  // per thread (OpenMP): set on the worker itself
        body();
    } catch (const core::Cancelled&) {
        emit generationCancelled(id);
    } catch (const std::bad_alloc&) {
        emit generationFailed(
            id, tr("out of memory: a host allocation failed; ask for less (fewer tokens, steps or methods)"));
    } catch (const std::exception& e) {
        emit generationFailed(id, QString::fromStdString(e.what()));
    } catch (...) {
        emit generationFailed(id, tr("unknown error in the inference thread"));
    }
}

void InferenceWorker::runAnalysis(const AnalysisRequest& request)
{
    const quint64 id = request.id;
    guarded(id, request.threads, [&] {
        emit progressed(id, tr("loading model"), 0, 0);
        core::LanguageModel& lm = model(request.modelPath, request.device);
        // The engine tokenizes the prompt (once) and owns the partial report; each stage goes to
        // the GUI as the small value it adds.
        auto observer = [&](const core::ReportUpdate& update, const core::Report&) { emit reportUpdated(id, update); };
        // With interventions the baseline (and, when the text changed, a forced run along it) follows.
        std::shared_ptr<const core::Report> report;
        if (request.options.interventionSpecs.empty()) {
            report = std::make_shared<const core::Report>(
                core::analyze(lm, request.prompt.toStdString(), request.options, progressFor(id), observer));
        } else {
            core::InterventionEffect effect = core::analyzeInterventionEffect(
                lm, request.prompt.toStdString(), request.options, progressFor(id), observer);
            report = std::make_shared<const core::Report>(std::move(effect.edited));
            emit diffReady(id, std::make_shared<const core::RunDiff>(std::move(effect.diff)));
        }
        emit reportReady(id, report);
        if (const std::string note = core::contextLimitNote(*report, lm.info(), request.options.maxNewTokens);
            !note.empty())
            emit notice(id, QString::fromStdString(note));
    });
}

template <typename Body>
void InferenceWorker::withInterventions(core::LanguageModel& model, const std::vector<std::string>& specs, Body&& body)
{
    // The cached model is shared by every tab: a request's specs apply to that request only.
    model.setInterventions(core::parseInterventions(specs));
    try {
        body();
    } catch (...) {
        model.setInterventions({});
        throw;
    }
    model.setInterventions({});
}

void InferenceWorker::runAttention(const AttentionRequest& request)
{
    const quint64 id = request.id;
    guarded(id, request.threads, [&] {
        core::LanguageModel& lm = model(request.modelPath, request.device);
        emit progressed(id, tr("attention"), 0, 1);
        auto outcome = std::make_shared<AttentionOutcome>();
        outcome->position = request.position;
        withInterventions(lm, request.interventions,
                          [&] { outcome->weights = lm.attentionRow(request.ids, request.position); });
        emit progressed(id, tr("attention"), 1, 1);
        emit attentionReady(id, outcome);
    });
}

void InferenceWorker::runCompare(const CompareRequest& request)
{
    const quint64 id = request.id;
    guarded(id, request.threads, [&] {
        emit progressed(id, tr("loading model"), 0, 0);
        core::LanguageModel& lm = model(request.modelPath, request.device);
        auto comparison = std::make_shared<const core::PromptComparison>(core::comparePrompts(
            lm, request.promptA.toStdString(), request.promptB.toStdString(), request.options, progressFor(id)));
        emit compareReady(id, comparison);
    });
}

void InferenceWorker::runPatch(const PatchRequest& request)
{
    const quint64 id = request.id;
    guarded(id, request.threads, [&] {
        emit progressed(id, tr("loading model"), 0, 0);
        core::LanguageModel& lm = model(request.modelPath, request.device);
        auto outcome = std::make_shared<PatchOutcome>();
        outcome->request = request;
        outcome->architecture = QString::fromStdString(lm.info().architecture);
        const std::vector<int> clean = lm.encode(request.clean.toStdString());
        const std::vector<int> corrupt = lm.encode(request.corrupt.toStdString());
        core::PatchOptions options;
        options.site = request.site;
        options.answer = outcome->answer = core::tokenArgument(lm, request.answer.toStdString(), "answer");
        options.wrong = outcome->wrong = core::tokenArgument(lm, request.wrong.toStdString(), "wrong");
        const core::Tokenizer* tokenizer = lm.tokenizer();
        auto text = [&](int token) {
            return tokenizer ? QString::fromStdString(tokenizer->tokenText(token)) : QStringLiteral("#%1").arg(token);
        };
        for (int t : clean) outcome->cleanTokens << text(t);
        for (int t : corrupt) outcome->corruptTokens << text(t);
        outcome->answerText = text(outcome->answer);
        outcome->wrongText = text(outcome->wrong);
        withInterventions(lm, request.interventions, [&] {
            outcome->result = core::patchActivations(lm, clean, corrupt, options, progressFor(id));
        });
        emit patchReady(id, outcome);
    });
}

void InferenceWorker::runSection(const SectionRequest& request)
{
    const quint64 id = request.id;
    guarded(id, request.threads, [&] {
        core::LanguageModel& lm = model(request.modelPath, request.device);
        auto report = std::make_shared<const core::Report>(
            request.section == SectionRequest::Section::Factors
                ? core::refactor(lm, *request.base, request.options, progressFor(id))
                : core::reproject(lm, *request.base, request.options, progressFor(id)));
        emit reportReady(id, report);
    });
}

void InferenceWorker::run(const GenerationRequest& request)
{
    const quint64 id = request.id;
    guarded(id, request.threads, [&] {
        emit progressed(id, tr("loading model"), 0, 0);
        core::LanguageModel& lm = model(request.modelPath, request.device);
        const std::vector<int> prompt = lm.encode(request.prompt.toStdString());
        const core::ProgressCallback progress = progressFor(id);
        const core::Tokenizer* tokenizer = lm.tokenizer();
        auto onToken = [&](int token) {
            emit tokenGenerated(
                id, token, tokenizer ? QString::fromStdString(tokenizer->tokenText(token)) : QString::number(token));
        };
        const core::GenerationResult result = lm.generate(prompt, request.sampling, progress, onToken);
        const QString text =
            tokenizer
                ? QString::fromStdString(core::sanitizeUtf8(tokenizer->decodeAfter(prompt.back(), result.generatedIds)))
                : QString();
        emit generationFinished(id, text, QVector<int>(result.generatedIds.begin(), result.generatedIds.end()));
        if (result.stoppedAtContextLimit)
            emit notice(id, tr("stopped at the model's context window (%1 tokens)").arg(lm.info().contextLength));
    });
}

}  // namespace spyglass::ui

namespace spyglass::ui {

void InferenceWorker::runDiffusion(const DiffusionRequest& request)
{
    const quint64 id = request.id;
    guarded(id, request.threads, [&] {
        emit progressed(id, tr("loading image model"), 0, 0);
        core::DiffusionModel& sd = diffusionModel(request.modelPath, request.device, request.load);
        auto preview = [&](int step, int total, int width, int height, const std::vector<uint8_t>& rgb) {
            const QImage image(rgb.data(), width, height, width * 3, QImage::Format_RGB888);
            emit imagePreviewReady(id, step, total, image.copy());
        };
        auto result =
            std::make_shared<const core::DiffusionResult>(sd.generate(request.options, progressFor(id), preview));
        emit imageReady(id, result);
    });
}

void InferenceWorker::runLab(const LabRequest& request)
{
    const quint64 id = request.id;
    guarded(id, request.threads, [&] {
        emit progressed(id, tr("loading image model"), 0, 0);
        // The lab's cached runs hold for this model and these LoRAs; runs whose prompt has LoRA
        // tags (LoRA chunks) get the model with those merged too (labModel).
        QString key = diffusionKey(request.modelPath, request.device, request.load);
        for (const auto& [name, file] : request.loraFiles)  // a chunk's LoRA rewritten on disk: run again
            key += QStringLiteral("|chunk:%1:%2")
                       .arg(QString::fromStdString(name), diskStamp(QString::fromStdString(file.string())));
        m_labRequest = request;
        if (!m_lab || key != m_labKey) {
            m_lab = std::make_unique<core::PromptLab>(
                [this](const std::vector<core::LoraTag>& tags) -> core::DiffusionModel& { return labModel(tags); });
            m_labKey = key;
        }
        const core::LabOptions& o = request.options;
        auto result = std::make_shared<LabResult>();
        result->options = o;
        result->mask = request.mask;
        result->report = m_lab->experiment(o, result->mask, progressFor(id));
        if (!request.exportDir.isEmpty())
            core::writeLabReport(*m_lab, o, result->report, result->mask, request.exportDir.toStdString());
        static_cast<core::LabImages&>(*result) = m_lab->images(o, result->report);
        emit labReady(id, result);
    });
}

core::DiffusionModel& InferenceWorker::labModel(const std::vector<core::LoraTag>& tags)
{
    const core::DiffusionLoadOptions load = core::withLoraTags(m_labRequest.load, tags, m_labRequest.loraFiles);
    if (!tags.empty()) emit progressed(m_labRequest.id, tr("loading the model with the chunk's LoRA"), 0, 0);
    return diffusionModel(m_labRequest.modelPath, m_labRequest.device, load);
}

}  // namespace spyglass::ui
