#pragma once
// ComparePage — the Compare A/B tab: one model, two prompts, run with the Language model tab's
// settings (decoding, saliency, lens, factors, interventions); the AbCompareView shows them side by
// side, tokens aligned, and exports as one figure (or CSV).
#include "pages/analysis_settings.h"
#include "pages/page.h"
#include "views/figure_caption.h"
#include "views/report_types.h"

#include <functional>

class QLabel;
class QLineEdit;
class QPushButton;
class QScrollArea;

namespace spyglass::ui {

class AbCompareView;
class LanguageModelPath;
class RunController;

class ComparePage : public Page {
    Q_OBJECT
public:
    // `settings` supplies the analysis settings of each run (the Language model tab's).
    ComparePage(RunController* controller, std::function<AnalysisSettings()> settings, QWidget* parent = nullptr);

    void runPage() override;
    [[nodiscard]] QString exportView(const QString& path, int dpi) override;
    [[nodiscard]] QImage viewImage() override;

    void setModelPath(const QString& path);
    void setPrompts(const QString& a, const QString& b);
    [[nodiscard]] AbCompareView* view() const { return m_view; }
    [[nodiscard]] QString summary() const;

private:
    void setComparison(const ComparisonPtr& comparison);
    [[nodiscard]] FigureCaption caption() const;

    RunController* m_controller;
    std::function<AnalysisSettings()> m_settings;
    LanguageModelPath* m_modelPath;
    QLineEdit* m_a;
    QLineEdit* m_b;
    QPushButton* m_run;
    QLabel* m_summary;
    QScrollArea* m_scroll;
    AbCompareView* m_view;
};

}  // namespace spyglass::ui
