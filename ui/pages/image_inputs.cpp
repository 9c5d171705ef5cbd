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

QString findLoraFile(const std::string& tagName, const QString& modelPath,
                     const std::vector<core::DiffusionLoadOptions::Lora>& loras)
{
    QStringList folders;
    for (const auto& l : loras) folders << QFileInfo(QString::fromStdString(l.path.string())).absolutePath();
    const QFileInfo model(modelPath);
    folders << (model.isDir() ? model.absoluteFilePath() : model.absolutePath());
    const QString name = QString::fromStdString(tagName) + QLatin1String(".safetensors");
    for (const QString& f : folders)
        if (QFileInfo::exists(QDir(f).filePath(name))) return QDir(f).filePath(name);
    return {};
}

QString resolveLoraChunks(const std::vector<std::string>& chunks, const QString& modelPath,
                          const std::vector<core::DiffusionLoadOptions::Lora>& loras,
                          std::map<std::string, std::filesystem::path>& files)
{
    for (const std::string& chunk : chunks) {
        core::LoraTags tags;
        try {
            tags = core::extractLoraTags(chunk);
        } catch (const core::Error& e) {
            return QString::fromStdString(e.what());
        }
        for (const auto& t : tags.loras) {
            const QString found = findLoraFile(t.name, modelPath, loras);
            if (found.isEmpty())
                return QObject::tr(
                           "The chunk's <lora:%1> was not found beside the listed LoRAs or the model; add "
                           "%1.safetensors with Add LoRA… (at any strength: the chunk's weight is used)")
                    .arg(QString::fromStdString(t.name));
            files[t.name] = found.toStdString();
        }
    }
    return {};
}

QString resolveLoraTags(std::string& prompt, const QString& modelPath,
                        std::vector<core::DiffusionLoadOptions::Lora>& loras)
{
    core::LoraTags tags;
    try {
        tags = core::extractLoraTags(prompt);
    } catch (const core::Error& e) {
        return QString::fromStdString(e.what());
    }
    if (tags.loras.empty()) return {};
    for (const auto& t : tags.loras) {
        const QString found = findLoraFile(t.name, modelPath, loras);
        if (found.isEmpty())
            return QObject::tr(
                       "The prompt's <lora:%1> was not found beside the listed LoRAs or the model; add %1.safetensors "
                       "with Add LoRA…")
                .arg(QString::fromStdString(t.name));
        const auto same = std::find_if(loras.begin(), loras.end(), [&](const auto& l) {
            return QFileInfo(QString::fromStdString(l.path.string())) == QFileInfo(found);
        });
        if (same != loras.end())
            same->strength = t.weight;  // the tag's weight, as in A1111
        else
            loras.push_back({found.toStdString(), t.weight});
    }
    prompt = tags.prompt;
    return {};
}

}  // namespace spyglass::ui
