#pragma once
// AnalysisRequest — one Run of the app: generate greedily and compute every analysis section.
#include "spyglass/analysis.h"
#include "views/report_types.h"

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

// Recompute one section of an existing report: the factors (another k or layer range) or the
// 2-D map (another layer or source).
struct SectionRequest {
    enum class Section { Factors, Projection };
    quint64 id = 0;
    Section section = Section::Factors;
    QString modelPath;
    QString device = QStringLiteral("cpu");
    int threads = 1;
    ReportPtr base;
    core::AnalysisOptions options;
};

}  // namespace spyglass::ui
