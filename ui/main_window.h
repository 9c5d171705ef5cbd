#pragma once
// MainWindow — composes the pages (the language-model views, Image, Prompt lab) over one
// RunController, the runtime bar (device, threads), the run progress, the error banner and the
// menus, and keeps sessions. Pages wire themselves; this file only puts them together.
#include "pages/analysis_settings.h"
#include "spyglass/session.h"
#include "theme.h"
#include "views/report_types.h"
#include "worker/diffusion_request.h"
#include "worker/lab_request.h"

#include <QMainWindow>

#include <memory>

class QTabWidget;

namespace spyglass::ui {

class ErrorBanner;
class FactorsView;
class ImageView;
class InferenceService;
class LanguagePage;
class LensView;
class Page;
class ProjectionView;
class PromptLabView;
class ComparePage;
class PatchingPage;
class RunController;
class RunProgress;
class RuntimeBar;
class SaliencyView;
class SessionBinding;
class SessionStore;
class SummaryView;
class TokenSelection;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    void setModelPath(const QString& path);
    void setPrompt(const QString& prompt);
    // The image model of the Image and Prompt lab tabs.
    void setImageModelPath(const QString& path);
    // Fills the Prompt lab with its demo (on the shipped shape model) and shows it.
    void showLabDemo();
    void run();  // the language page's Run
    void runImage(const DiffusionRequest& request);
    void runLab(const LabRequest& request);

    // Figure of the current page's view (png/svg/pdf by suffix) or its data (csv): "" or the reason.
    QString exportCurrentView(const QString& path, int dpi = 150);
    void setTheme(Theme theme);
    // Sessions: "" or the reason (also shown in the banner). saveSessionTo waits for the write
    // (which runs on the session store's thread); the menu's Save does not.
    QString saveSessionTo(const QString& path);
    void saveSessionInBackground(const QString& path);
    QString openSession(const QString& path);
    // A dataset summary (summary.json from `spyglass-cli aggregate`, or a folder of reports) in its
    // own window: "" or the reason (also shown in the banner).
    QString openSummary(const QString& path);
    [[nodiscard]] SummaryView* summaryView() const { return m_summary; }
    [[nodiscard]] AnalysisSettings settings() const;
    void applySettings(const AnalysisSettings& settings);

    [[nodiscard]] Page* currentPage() const;
    [[nodiscard]] QTabWidget* tabs() const { return m_tabs; }
    [[nodiscard]] LanguagePage* languagePage() const { return m_language; }
    [[nodiscard]] QTabWidget* viewTabs() const;  // the language page's four views
    [[nodiscard]] RunController* controller() const { return m_controller; }
    [[nodiscard]] InferenceService* service() const;
    [[nodiscard]] ErrorBanner* errorBanner() const { return m_banner; }
    [[nodiscard]] RunProgress* progress() const { return m_progress; }
    [[nodiscard]] const ReportPtr& report() const;
    [[nodiscard]] QString outputText() const;
    [[nodiscard]] QString modelInfoText() const;
    [[nodiscard]] TokenSelection* selection() const;
    [[nodiscard]] SaliencyView* saliencyView() const;
    [[nodiscard]] LensView* lensView() const;
    [[nodiscard]] FactorsView* factorsView() const;
    [[nodiscard]] ProjectionView* projectionView() const;
    [[nodiscard]] ImageView* imageView() const { return m_image; }
    [[nodiscard]] PromptLabView* labView() const { return m_lab; }
    [[nodiscard]] PatchingPage* patchingPage() const { return m_patching; }
    [[nodiscard]] ComparePage* comparePage() const { return m_compare; }

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    SummaryView* m_summary = nullptr;  // in its own window, made when first opened
    RunController* m_controller;
    SessionStore* m_sessions;
    ErrorBanner* m_banner;
    RuntimeBar* m_runtime;
    RunProgress* m_progress;
    QTabWidget* m_tabs;
    LanguagePage* m_language;
    ImageView* m_image;
    PromptLabView* m_lab;
    PatchingPage* m_patching;
    ComparePage* m_compare;
    std::unique_ptr<SessionBinding> m_binding;
};

}  // namespace spyglass::ui
