#pragma once
// InterventionDiffView — what the run's interventions changed (core::RunDiff): the generated text
// with and without them side by side, the first diverging token marked; Δ log-prob of each token
// the baseline generated; Δ saliency (generated tokens × positions) and Δ lens (layers ×
// positions, the next token's probability) as diverging-colour heatmaps, all edited − baseline.
// Clicking a column selects its token.
#include "views/report_types.h"

#include <QWidget>

class QCPColorMap;
class QCustomPlot;
class QLabel;

namespace spyglass::ui {

class TokenSelection;

class InterventionDiffView : public QWidget {
    Q_OBJECT
public:
    explicit InterventionDiffView(TokenSelection* selection, QWidget* parent = nullptr);

    // Null: the run had no interventions (the view says how to add some).
    void setDiff(const RunDiffPtr& diff);
    [[nodiscard]] const RunDiffPtr& diff() const { return m_diff; }
    [[nodiscard]] QString textsHtml() const;
    [[nodiscard]] QCustomPlot* logProbPlot() const { return m_logProb; }
    [[nodiscard]] QCustomPlot* saliencyPlot() const { return m_saliency; }
    [[nodiscard]] QCustomPlot* lensPlot() const { return m_lens; }
    // Every number of the view: one line per (section, row, column).
    [[nodiscard]] QString toCsv() const;

private:
    void refresh();

    TokenSelection* m_selection;
    RunDiffPtr m_diff;
    QLabel* m_texts;
    QCustomPlot* m_logProb;
    QCustomPlot* m_saliency;
    QCustomPlot* m_lens;
    QCPColorMap* m_saliencyMap;
    QCPColorMap* m_lensMap;
};

}  // namespace spyglass::ui
