#include "pages/image_inputs.h"

#include "spyglass/error.h"
#include "spyglass/generation_parameters.h"
#include "spyglass/lora_tags.h"

#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QMimeData>
#include <QUrl>

#include <algorithm>

namespace spyglass::ui {

QString chooseImageModel(QWidget* parent, const QString& current)
{
    const QString file = QFileDialog::getOpenFileName(
        parent, QObject::tr("Open image model: a diffusers folder's model_index.json or a checkpoint"), current,
        QObject::tr("Image models (model_index.json *.safetensors);;All files (*)"));
    if (file.isEmpty()) return {};
    const QFileInfo info(file);
    return info.fileName() == QLatin1String("model_index.json") ? info.absolutePath() : info.absoluteFilePath();
}

PngParameters readPngParameters(const QString& path)
{
    PngParameters out;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        out.error = QObject::tr("%1: cannot be opened").arg(path);
        return out;
    }
    const QByteArray bytes = file.readAll();
    try {
        const auto text = core::readPngText(bytes.toStdString(), "parameters", path.toStdString());
        if (!text) {
            out.error = QObject::tr("%1: has no 'parameters' text (AUTOMATIC1111 / Forge write it)").arg(path);
            return out;
        }
        for (const auto& note : core::applyGenerationParameters(core::parseGenerationParameters(*text), out.options))
            out.notes << QString::fromStdString(note);
    } catch (const core::Error& e) {
        out.error = QString::fromStdString(e.what());
    }
    return out;
}

QString droppedPng(const QMimeData* mime)
{
    if (!mime || !mime->hasUrls()) return {};
    for (const QUrl& url : mime->urls())
        if (url.isLocalFile() && url.toLocalFile().endsWith(QLatin1String(".png"), Qt::CaseInsensitive))
            return url.toLocalFile();
    return {};
}

namespace {

QString withHint(const core::Error& e)
{
    QString message = QString::fromUtf8(e.what());
    if (message.contains(QLatin1String("was not found")))
        message += QObject::tr("; add the file with Add LoRA… (at any strength: the tag's weight is used)");
    return message;
}

}  // namespace

QString resolveLoraTags(std::string& prompt, const QString& modelPath,
                        std::vector<core::DiffusionLoadOptions::Lora>& loras)
{
    core::DiffusionLoadOptions load;
    load.loras = loras;
    try {
        core::resolvePromptLoras(prompt, modelPath.toStdString(), load);
    } catch (const core::Error& e) {
        return withHint(e);
    }
    loras = std::move(load.loras);
    return {};
}

QString resolveLabLoraTags(core::LabOptions& options, const QString& modelPath, core::DiffusionLoadOptions& load,
                           core::LoraFiles& files)
{
    try {
        core::resolveLabLoras(options, modelPath.toStdString(), load, files);
    } catch (const core::Error& e) {
        return withHint(e);
    }
    return {};
}

}  // namespace spyglass::ui
