#pragma once
// LabRequest — one run (or re-score, or export) of the Prompt lab tab, and what comes back: the
// report plus copies of the images the tab shows (first seed).
#include "spyglass/diffusion.h"
#include "spyglass/prompt_lab.h"

#include <QMetaType>
#include <QString>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace spyglass::ui {

struct LabRequest {
    quint64 id = 0;
    QString modelPath;
    core::DiffusionLoadOptions load;  // LoRAs (and single-file options)
    QString device = QStringLiteral("cpu");
    int threads = 1;
    core::LabOptions options;
    std::vector<uint8_t> mask;  // width·height, 1 inside; empty: the whole image
    QString exportDir;          // also write the report files there
    // The files of the chunks' A1111 LoRA tags by name (a chunk "<lora:NAME:W>" = with vs without it).
    std::map<std::string, std::filesystem::path> loraFiles;
};

struct LabResult : core::LabImages {  // the images (first seed, RGB)
    core::LabOptions options;
    core::LabReport report;
    std::vector<uint8_t> mask;
};

using LabResultPtr = std::shared_ptr<const LabResult>;

}  // namespace spyglass::ui

Q_DECLARE_METATYPE(spyglass::ui::LabResultPtr)
