#pragma once
// MainWindow — composes the prompt, model and generation settings, the output view and the
// error banner over an InferenceService. It wires widgets together and does nothing else.
#include <QMainWindow>

class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTextEdit;

namespace spyglass::ui {

class ErrorBanner;
class InferenceService;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    void setModelPath(const QString& path);
    void setPrompt(const QString& prompt);
    void run();
    [[nodiscard]] QString outputText() const;
    [[nodiscard]] ErrorBanner* errorBanner() const { return m_banner; }
    [[nodiscard]] InferenceService* service() const { return m_service; }

private:
    void chooseModel();
    void setRunning(bool running);
    QWidget* buildSettings();

    InferenceService* m_service;
    ErrorBanner* m_banner;
    QLineEdit* m_modelPath;
    QPlainTextEdit* m_prompt;
    QComboBox* m_device;
    QSpinBox* m_threads;
    QSpinBox* m_maxTokens;
    QDoubleSpinBox* m_temperature;
    QSpinBox* m_topK;
    QDoubleSpinBox* m_topP;
    QSpinBox* m_seed;
    QPushButton* m_runButton;
    QPushButton* m_cancelButton;
    QProgressBar* m_progress;
    QTextEdit* m_output;
};

}  // namespace spyglass::ui
