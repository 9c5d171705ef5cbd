#pragma once
// PatchingPage — the Patching tab: activation patching clean → corrupt (core/patching.h). Two
// prompts of equal token length, the answer and the wrong token, a site; Run patches every
// (layer, position) — for heads every (layer, head) — in the worker and shows the effect as a
// layers × positions heatmap (1: the patch restores the clean answer, 0: no change). Clicking a
// cell shows that patched run's numbers. Exports the heatmap as a figure and the grid as CSV.
#include "pages/page.h"
#include "worker/patch_request.h"

class QComboBox;
class QCustomPlot;
class QCPColorMap;
class QLabel;
class QLineEdit;
class QPushButton;

namespace spyglass::ui {

class LanguageModelPath;
class RunController;

class PatchingPage : public Page {
    Q_OBJECT
public:
    explicit PatchingPage(RunController* controller, QWidget* parent = nullptr);

    void runPage() override;
    [[nodiscard]] QString exportView(const QString& path, int dpi) override;
    [[nodiscard]] QImage viewImage() override;

    // The request the fields describe (id, device and threads are filled by the controller).
    [[nodiscard]] PatchRequest request() const;
    void setModelPath(const QString& path);
    void setPrompts(const QString& clean, const QString& corrupt, const QString& answer, const QString& wrong);
    void setSite(core::PatchSite site);
    void setInterventions(const QString& specs);
    void setOutcome(const PatchOutcomePtr& outcome);
    [[nodiscard]] const PatchOutcomePtr& outcome() const { return m_outcome; }
    // Shows the numbers of one cell (layer, column) below the heatmap; false when out of range.
    bool selectCell(int layer, int column);
    [[nodiscard]] QString cellText() const;
    [[nodiscard]] QCustomPlot* plot() const { return m_plot; }

private:
    [[nodiscard]] QString columnLabel(int column) const;

    RunController* m_controller;
    LanguageModelPath* m_modelPath;
    QLineEdit* m_clean;
    QLineEdit* m_corrupt;
    QLineEdit* m_answer;
    QLineEdit* m_wrong;
    QComboBox* m_site;
    QLineEdit* m_interventions;
    QPushButton* m_run;
    QLabel* m_summary;
    QCustomPlot* m_plot;
    QCPColorMap* m_map;
    QLabel* m_cell;
    PatchOutcomePtr m_outcome;
};

}  // namespace spyglass::ui
