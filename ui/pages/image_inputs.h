#pragma once
// What the Image and Prompt lab tabs share about an image model's inputs: choosing the model (a
// diffusers folder through its model_index.json, or a single-file .safetensors checkpoint),
// reading an A1111 / Forge PNG's generation parameters (dropped or opened), and resolving the
// prompt's <lora:NAME:W> tags against the folders of the listed LoRAs and the model's.
#include "spyglass/diffusion.h"

#include <QString>
#include <QStringList>

#include <filesystem>
#include <map>
#include <vector>

class QMimeData;
class QWidget;

namespace spyglass::ui {

// A file dialog for model_index.json (→ its folder) or a .safetensors checkpoint; empty if cancelled.
[[nodiscard]] QString chooseImageModel(QWidget* parent, const QString& current);

struct PngParameters {
    core::DiffusionOptions options;  // the fields the PNG gave (the rest default)
    QStringList notes;               // what cannot be honoured, one line each
    QString error;                   // not readable / no parameters
};
[[nodiscard]] PngParameters readPngParameters(const QString& path);
// The first local .png file of a drag, or "".
[[nodiscard]] QString droppedPng(const QMimeData* mime);

// NAME.safetensors beside the listed LoRAs or the model (the model's folder, or the folder of a
// single file), or "".
[[nodiscard]] QString findLoraFile(const std::string& tagName, const QString& modelPath,
                                   const std::vector<core::DiffusionLoadOptions::Lora>& loras);
// The files of the A1111 LoRA tags in the prompt lab's chunks, by tag name, into `files`. Returns ""
// or the message naming the tag that is malformed or not found.
[[nodiscard]] QString resolveLoraChunks(const std::vector<std::string>& chunks, const QString& modelPath,
                                        const std::vector<core::DiffusionLoadOptions::Lora>& loras,
                                        std::map<std::string, std::filesystem::path>& files);
// Takes A1111's <lora:NAME:W> tags out of `prompt` and adds NAME.safetensors (found beside the
// listed LoRAs or the model) to `loras`. Returns "" or the message naming what was not found.
[[nodiscard]] QString resolveLoraTags(std::string& prompt, const QString& modelPath,
                                      std::vector<core::DiffusionLoadOptions::Lora>& loras);

}  // namespace spyglass::ui
