#include "main_window.h"

#include "views/error_banner.h"
#include "worker/inference_service.h"

#include "spyglass/runtime.h"
#include "spyglass/version.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardItemModel>
#include <QStatusBar>
#include <QTextEdit>
#include <QVBoxLayout>

namespace spyglass::ui {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      m_service(new InferenceService(this)),
      m_banner(new ErrorBanner),
      m_modelPath(new QLineEdit),
      m_prompt(new QPlainTextEdit),
      m_device(new QComboBox),
      m_threads(new QSpinBox),
      m_maxTokens(new QSpinBox),
      m_temperature(new QDoubleSpinBox),
      m_topK(new QSpinBox),
      m_topP(new QDoubleSpinBox),
      m_seed(new QSpinBox),
      m_runButton(new QPushButton(tr("Run"))),
      m_cancelButton(new QPushButton(tr("Cancel"))),
      m_progress(new QProgressBar),
      m_output(new QTextEdit)
{
    setWindowTitle(QStringLiteral("Spyglass %1").arg(QString::fromLatin1(kVersion)));
    m_prompt->setPlaceholderText(tr("Type a prompt, then press Run (Ctrl+Return)"));
    m_output->setReadOnly(true);
    m_output->setPlaceholderText(tr("Generated text appears here, token by token."));

    auto* modelRow = new QHBoxLayout;
    m_modelPath->setPlaceholderText(tr("Hugging Face model folder (config.json, model.safetensors, tokenizer)"));
    auto* browse = new QPushButton(tr("Open…"));
    modelRow->addWidget(new QLabel(tr("Model:")));
    modelRow->addWidget(m_modelPath, 1);
    modelRow->addWidget(browse);

    auto* buttons = new QHBoxLayout;
    m_runButton->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
    buttons->addWidget(m_runButton);
    buttons->addWidget(m_cancelButton);
    buttons->addWidget(m_progress, 1);

    auto* left = new QWidget;
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(new QLabel(tr("Prompt")));
    leftLayout->addWidget(m_prompt, 1);
    leftLayout->addLayout(buttons);
    leftLayout->addWidget(new QLabel(tr("Output")));
    leftLayout->addWidget(m_output, 2);

    auto* splitter = new QSplitter;
    splitter->addWidget(left);
    splitter->addWidget(buildSettings());
    splitter->setStretchFactor(0, 3);

    auto* central = new QWidget;
    auto* layout = new QVBoxLayout(central);
    layout->addWidget(m_banner);
    layout->addLayout(modelRow);
    layout->addWidget(splitter, 1);
    setCentralWidget(central);
    statusBar()->showMessage(QString::fromStdString(core::runtimeDescription()));
    resize(1000, 640);
    setRunning(false);

    connect(browse, &QPushButton::clicked, this, &MainWindow::chooseModel);
    connect(m_runButton, &QPushButton::clicked, this, &MainWindow::run);
    connect(m_cancelButton, &QPushButton::clicked, m_service, &InferenceService::cancel);
    connect(m_service, &InferenceService::progressed, this, [this](const QString& stage, int done, int total) {
        m_progress->setRange(0, total);
        m_progress->setValue(done);
        m_progress->setFormat(total > 0 ? QStringLiteral("%1 %2/%3").arg(stage).arg(done).arg(total) : stage);
    });
    connect(m_service, &InferenceService::tokenGenerated, this, [this](int, const QString& text) {
        m_output->moveCursor(QTextCursor::End);
        m_output->insertPlainText(text);
    });
    connect(m_service, &InferenceService::generationFinished, this, [this](const QString& text, const QVector<int>&) {
        m_output->setPlainText(text);
        setRunning(false);
        m_progress->setFormat(tr("done"));
    });
    connect(m_service, &InferenceService::generationFailed, this, [this](const QString& message) {
        m_banner->showMessage(message);
        setRunning(false);
        m_progress->setFormat(tr("failed"));
    });
    connect(m_service, &InferenceService::generationCancelled, this, [this] {
        setRunning(false);
        m_progress->setFormat(tr("cancelled"));
    });
}

QWidget* MainWindow::buildSettings()
{
    m_device->addItem(QStringLiteral("CPU"), QStringLiteral("cpu"));
    m_device->addItem(QStringLiteral("CUDA"), QStringLiteral("cuda"));
    if (!core::cudaAvailable()) {
        auto* model = qobject_cast<QStandardItemModel*>(m_device->model());
        model->item(1)->setEnabled(false);
        model->item(1)->setToolTip(tr("This libtorch build has no CUDA, or no GPU is visible"));
    }
    m_threads->setRange(1, 256);
    m_threads->setValue(core::kDefaultThreadCount);
    m_maxTokens->setRange(1, 4096);
    m_maxTokens->setValue(20);
    m_temperature->setRange(0.0, 5.0);
    m_temperature->setSingleStep(0.1);
    m_temperature->setSpecialValueText(tr("greedy"));
    m_topK->setRange(0, 100000);
    m_topK->setSpecialValueText(tr("off"));
    m_topP->setRange(0.01, 1.0);
    m_topP->setSingleStep(0.05);
    m_topP->setValue(1.0);
    m_seed->setRange(0, 1 << 30);

    auto* box = new QWidget;
    auto* form = new QFormLayout(box);
    form->addRow(tr("Device"), m_device);
    form->addRow(tr("Threads"), m_threads);
    form->addRow(tr("Max new tokens"), m_maxTokens);
    form->addRow(tr("Temperature"), m_temperature);
    form->addRow(tr("Top-k"), m_topK);
    form->addRow(tr("Top-p"), m_topP);
    form->addRow(tr("Seed"), m_seed);
    return box;
}

void MainWindow::setModelPath(const QString& path) { m_modelPath->setText(path); }
void MainWindow::setPrompt(const QString& prompt) { m_prompt->setPlainText(prompt); }
QString MainWindow::outputText() const { return m_output->toPlainText(); }

void MainWindow::chooseModel()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open model folder"), m_modelPath->text());
    if (!dir.isEmpty()) m_modelPath->setText(dir);
}

void MainWindow::setRunning(bool running)
{
    m_runButton->setEnabled(!running);
    m_cancelButton->setEnabled(running);
}

void MainWindow::run()
{
    m_banner->hide();
    m_output->clear();
    GenerationRequest request;
    request.modelPath = m_modelPath->text().trimmed();
    request.device = m_device->currentData().toString();
    request.threads = m_threads->value();
    request.prompt = m_prompt->toPlainText();
    request.sampling.maxNewTokens = m_maxTokens->value();
    request.sampling.temperature = static_cast<float>(m_temperature->value());
    request.sampling.topK = m_topK->value();
    request.sampling.topP = static_cast<float>(m_topP->value());
    request.sampling.seed = static_cast<uint64_t>(m_seed->value());
    if (request.modelPath.isEmpty()) {
        m_banner->showMessage(tr("Choose a model folder first (Open…)."));
        return;
    }
    setRunning(true);
    m_service->submit(request);
}

}  // namespace spyglass::ui
