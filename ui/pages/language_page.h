#pragma once
// LanguagePage — the language-model workspace: model and prompt, Run, the generated text, the four
// linked views (saliency, logit lens, factors, activation map) and, beside them, the settings they
// use. Before the first run it shows a hint and the example prompts instead of empty axes. It
// subscribes to the RunController: stages fill the views live, the final report replaces them.
#include "pages/analysis_settings.h"
#include "pages/page.h"
#include "views/report_types.h"

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QStackedWidget;
class QTabWidget;

namespace spyglass::ui {

class AnalysisSettingsPanel;
class AttentionView;
class FactorsView;
class LanguageModelPath;
class InterventionDiffView;
class LensView;
class ProjectionView;
class RunController;
class SaliencyView;
class TokenSelection;
struct ExamplePrompt;

class LanguagePage : public Page {
    Q_OBJECT
public:
    explicit LanguagePage(RunController* controller, QWidget* parent = nullptr);

    void setModelPath(const QString& path);
    [[nodiscard]] QString modelPath() const;
    void setPrompt(const QString& prompt);
    [[nodiscard]] QString prompt() const;
    [[nodiscard]] AnalysisSettings settings() const;
    void setSettings(const AnalysisSettings& settings);
    void useExample(const ExamplePrompt& example);
    void run();

    void runPage() override { run(); }
    [[nodiscard]] QString exportView(const QString& path, int dpi) override;
    [[nodiscard]] QImage viewImage() override;
    // "saliency", "lens", "factors" or "projection": the view on screen (captions, sessions).
    [[nodiscard]] QString currentViewName() const;
    void showView(int index);

    [[nodiscard]] QString outputText() const;
    [[nodiscard]] QString modelInfoText() const;
    [[nodiscard]] QTabWidget* viewTabs() const { return m_views; }
    [[nodiscard]] bool showsEmptyState() const;
    [[nodiscard]] TokenSelection* selection() const { return m_selection; }
    [[nodiscard]] SaliencyView* saliencyView() const { return m_saliency; }
    [[nodiscard]] LensView* lensView() const { return m_lens; }
    [[nodiscard]] FactorsView* factorsView() const { return m_factors; }
    [[nodiscard]] ProjectionView* projectionView() const { return m_projection; }
    [[nodiscard]] AttentionView* attentionView() const { return m_attention; }
    [[nodiscard]] InterventionDiffView* diffView() const { return m_diff; }
    // Adds `spec` to the interventions (on) and runs again; the Δ tab then shows what it changed.
    void ablateAndRerun(const QString& spec);
    // The same for factor K of the report on screen (its loadings are saved under the app's data
    // folder so the spec factor:K:FILE stays valid in the session and the report).
    void ablateFactorAndRerun(int factor);
    [[nodiscard]] AnalysisSettingsPanel* settingsPanel() const { return m_settings; }

signals:
    // An analysis was submitted (for the recent models / prompts).
    void analysisSubmitted(const QString& modelPath, const QString& prompt);

private:
    QWidget* buildEmptyState();
    void onUpdate(const ReportPtr& live, const core::ReportUpdate& update);
    void onReport(const ReportPtr& report);
    void rerunInBackground();

    RunController* m_controller;
    TokenSelection* m_selection;
    LanguageModelPath* m_modelPath;
    QPlainTextEdit* m_prompt;
    QPushButton* m_run;
    QLabel* m_output;
    QStackedWidget* m_stack;  // the empty state, then the views
    QTabWidget* m_views;
    SaliencyView* m_saliency;
    LensView* m_lens;
    FactorsView* m_factors;
    ProjectionView* m_projection;
    AttentionView* m_attention;
    InterventionDiffView* m_diff;
    AnalysisSettingsPanel* m_settings;
};

}  // namespace spyglass::ui
