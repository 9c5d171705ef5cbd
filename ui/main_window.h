#pragma once
// MainWindow — composes the prompt, model and settings panel, the four linked views (saliency,
// logit lens, factors, activation map) and the error banner over an InferenceService. It wires
// widgets together and does nothing else.
#include "theme.h"
#include "views/figure_caption.h"
#include "worker/analysis_request.h"
#include "worker/diffusion_request.h"
#include "worker/lab_request.h"

#include <QJsonObject>
#include <QMainWindow>

class QComboBox;
class QMenu;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTabWidget;

namespace spyglass::ui {

class ErrorBanner;
class FactorsView;
class InferenceService;
class LensView;
class ImageView;
class PromptLabView;
class ProjectionView;
class SaliencyView;
class TokenSelection;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    void setModelPath(const QString& path);
    void setPrompt(const QString& prompt);
    // The image model of the Image and Prompt lab tabs.
    void setImageModelPath(const QString& path);
    // Fills the Prompt lab with its demo (on the shipped shape model) and shows it.
    void showLabDemo();
    void run();
    // Generates an image with the Image tab's request (device and threads from the settings).
    void runImage(DiffusionRequest request);
    // Runs (or re-scores, or exports) the Prompt lab's request.
    void runLab(LabRequest request);
    [[nodiscard]] QString outputText() const;
    [[nodiscard]] ErrorBanner* errorBanner() const { return m_banner; }
    [[nodiscard]] InferenceService* service() const { return m_service; }
    [[nodiscard]] SaliencyView* saliencyView() const { return m_saliency; }
    [[nodiscard]] LensView* lensView() const { return m_lens; }
    [[nodiscard]] FactorsView* factorsView() const { return m_factors; }
    [[nodiscard]] ProjectionView* projectionView() const { return m_projection; }
    [[nodiscard]] ImageView* imageView() const { return m_image; }
    [[nodiscard]] PromptLabView* labView() const { return m_lab; }
    [[nodiscard]] QTabWidget* tabs() const { return m_tabs; }
    [[nodiscard]] TokenSelection* selection() const { return m_selection; }
    [[nodiscard]] const ReportPtr& report() const { return m_report; }
    [[nodiscard]] QString modelInfoText() const;
    // Figure of the current view (png/svg/pdf by suffix) or its data (csv); "" or the reason.
    QString exportCurrentView(const QString& path, int dpi = 150);
    void setTheme(Theme theme);
    // Sessions: "" or the reason (also shown in the banner).
    QString saveSessionTo(const QString& path);
    QString openSession(const QString& path);
    [[nodiscard]] QJsonObject settings() const;
    void applySettings(const QJsonObject& settings);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildMenus();
    QWidget* buildSettings();
    void chooseModel();
    [[nodiscard]] FigureCaption currentCaption() const;
    void setRunning(bool running);
    void onReport(const ReportPtr& report);
    void remember(const QString& key, const QString& value);  // recent prompts / models (QSettings)
    void rebuildRecentMenus();

    InferenceService* m_service;
    TokenSelection* m_selection;
    ErrorBanner* m_banner;
    QLineEdit* m_modelPath;
    QPlainTextEdit* m_prompt;
    QComboBox* m_device;
    QSpinBox* m_threads;
    QSpinBox* m_maxTokens;
    QDoubleSpinBox* m_temperature;
    QSpinBox* m_sampleTopK;
    QDoubleSpinBox* m_topP;
    QSpinBox* m_seed;
    QComboBox* m_saliencyMethod;
    QComboBox* m_saliencyTarget;
    QComboBox* m_lensMode;
    QSpinBox* m_topK;
    QSpinBox* m_factorCount;
    QSpinBox* m_projectionLayer;
    QPushButton* m_runButton;
    QPushButton* m_cancelButton;
    QProgressBar* m_progress;
    QLabel* m_output;
    QLabel* m_modelInfo;
    QTabWidget* m_tabs;
    SaliencyView* m_saliency;
    LensView* m_lens;
    FactorsView* m_factors;
    ProjectionView* m_projection;
    ImageView* m_image;
    PromptLabView* m_lab;
    ReportPtr m_report;
    QStringList m_methods;
    QMenu* m_recentModels = nullptr;
    QMenu* m_recentPrompts = nullptr;
};

}  // namespace spyglass::ui
