#include "worker/inference_worker.h"

#include "spyglass/error.h"
#include "spyglass/runtime.h"

#include <QElapsedTimer>

namespace spyglass::ui {

InferenceWorker::InferenceWorker() = default;
InferenceWorker::~InferenceWorker() = default;

core::LanguageModel& InferenceWorker::model(const GenerationRequest& request)
{
    const QString key = request.modelPath + QLatin1Char('|') + request.device;
    if (!m_model || key != m_modelKey) {
        m_model.reset();
        m_model = core::LanguageModel::load(request.modelPath.toStdString(), {request.device.toStdString()});
        m_modelKey = key;
    }
    return *m_model;
}

void InferenceWorker::run(const GenerationRequest& request)
{
    const quint64 id = request.id;
    if (id != m_latest) return;  // superseded before it started
    try {
        core::setThreadCount(request.threads);  // per thread (OpenMP): set on the worker itself
        emit progressed(id, tr("loading model"), 0, 0);
        core::LanguageModel& lm = model(request);
        const std::vector<int> prompt = lm.encode(request.prompt.toStdString());
        QElapsedTimer throttle;
        throttle.start();
        auto progress = [&](const core::Progress& p) {
            if (m_cancelled || id != m_latest) return false;
            if (throttle.elapsed() >= 100 || p.done == p.total) {
                emit progressed(id, QString::fromStdString(p.stage), p.done, p.total);
                throttle.restart();
            }
            return true;
        };
        const core::Tokenizer* tokenizer = lm.tokenizer();
        auto onToken = [&](int token) {
            emit tokenGenerated(id, token, tokenizer ? QString::fromStdString(tokenizer->tokenText(token)) : QString::number(token));
        };
        const core::GenerationResult result = lm.generate(prompt, request.sampling, progress, onToken);
        const QString text = tokenizer ? QString::fromStdString(core::sanitizeUtf8(tokenizer->decode(result.generatedIds))) : QString();
        emit generationFinished(id, text, QVector<int>(result.generatedIds.begin(), result.generatedIds.end()));
    } catch (const core::Cancelled&) {
        emit generationCancelled(id);
    } catch (const std::exception& e) {
        emit generationFailed(id, QString::fromStdString(e.what()));
    } catch (...) {
        emit generationFailed(id, tr("unknown error in the inference thread"));
    }
}

}  // namespace spyglass::ui
