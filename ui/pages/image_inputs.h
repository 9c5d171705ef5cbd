#pragma once
// What the Image and Prompt lab tabs share about an image model's inputs: choosing the model (a
// diffusers folder through its model_index.json, or a single-file .safetensors checkpoint),
// reading an A1111 / Forge PNG's generation parameters (dropped or opened), and resolving the
// prompt's <lora:NAME:W> tags against the folders of the listed LoRAs and the model's.
#include "spyglass/diffusion.h"
#include "spyglass/lora_files.h"

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

// Takes A1111's <lora:NAME:W> tags out of `prompt` and adds NAME.safetensors (found beside the
// listed LoRAs or the model, core/lora_files.h) to `loras`. Returns "" or the message naming what
// was not found.
[[nodiscard]] QString resolveLoraTags(std::string& prompt, const QString& modelPath,
                                      std::vector<core::DiffusionLoadOptions::Lora>& loras);
// The prompt lab's tags (core::resolveLabLoras): the base's join `load`, the chunks' go to `files`.
[[nodiscard]] QString resolveLabLoraTags(core::LabOptions& options, const QString& modelPath,
                                         core::DiffusionLoadOptions& load, core::LoraFiles& files);

}  // namespace spyglass::ui
