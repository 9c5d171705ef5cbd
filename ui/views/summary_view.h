#pragma once
// SummaryView — a batch's dataset-level tables (spyglass.summary/1, from `spyglass-cli aggregate` or
// summarized here from a folder of reports): how saliency divides between kinds of context tokens,
// the factors' k, error and stability, and the histogram of the first lens layer that ranks the real
// next token first. Shown in its own window (File ▸ Open dataset summary…, `spyglass --summary`).
#include "spyglass/report_summary.h"

#include <QWidget>

class QCustomPlot;
class QLabel;
class QTableWidget;

namespace spyglass::ui {

class SummaryView : public QWidget {
    Q_OBJECT
public:
    explicit SummaryView(QWidget* parent = nullptr);
    // A SummaryView as its own top-level window over `parent`.
    [[nodiscard]] static SummaryView* window(QWidget* parent);

    void setSummary(const core::DatasetSummary& summary, const QString& source);
    // A summary.json or a folder of reports (a batch's --out-dir), then shown and raised: "" or the
    // reason, naming the path.
    QString open(const QString& path);
    [[nodiscard]] const core::DatasetSummary& summary() const { return m_summary; }
    [[nodiscard]] QTableWidget* shareTable() const { return m_shares; }
    [[nodiscard]] QCustomPlot* histogram() const { return m_histogram; }
    // The whole view as a PNG/SVG/PDF (by suffix): "" or the reason.
    QString exportFigure(const QString& path);

private:
    core::DatasetSummary m_summary;
    QLabel* m_header;
    QTableWidget* m_shares;
    QLabel* m_factors;
    QCustomPlot* m_histogram;
};

}  // namespace spyglass::ui
