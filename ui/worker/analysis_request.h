#pragma once
// AnalysisRequest — one Run of the app: generate greedily and compute every analysis section.
#include "spyglass/analysis.h"
#include "spyglass/report.h"

#include <QMetaType>
#include <QString>

#include <memory>

namespace spyglass::ui {

struct AnalysisRequest {
    quint64 id = 0;
    QString modelPath;
    QString device = QStringLiteral("cpu");
    int threads = 1;
    QString prompt;
    core::AnalysisOptions options;
};

using ReportPtr = std::shared_ptr<const core::Report>;

// Recompute only the factors of an existing report (another k or layer range).
struct FactorRequest {
    quint64 id = 0;
    QString modelPath;
    QString device = QStringLiteral("cpu");
    int threads = 1;
    ReportPtr base;
    core::AnalysisOptions options;
};

}  // namespace spyglass::ui

Q_DECLARE_METATYPE(spyglass::ui::ReportPtr)
Q_DECLARE_METATYPE(spyglass::core::SaliencyRow)
