#include "main_window.h"

#include "theme.h"

#include "example_prompts.h"
#include "session_file.h"
#include "views/error_banner.h"
#include "views/factors_view.h"
#include "views/figure_export.h"
#include "views/image_view.h"
#include "views/prompt_lab_view.h"
#include "views/lens_view.h"
#include "views/projection_view.h"
#include "views/saliency_view.h"
#include "views/token_selection.h"
#include "worker/inference_service.h"
#include "models/lens_table_model.h"

#include "spyglass/report_json.h"
#include "spyglass/runtime.h"
#include "spyglass/version.h"

#include <QClipboard>
#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QGuiApplication>
#include <QMimeData>
#include <QSettings>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QActionGroup>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QShortcut>
#include <QSpinBox>

#include <limits>
#include <QSplitter>
#include <QStandardItemModel>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

namespace spyglass::ui {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      m_service(new InferenceService(this)),
      m_selection(new TokenSelection(this)),
      m_banner(new ErrorBanner),
      m_modelPath(new QLineEdit),
      m_prompt(new QPlainTextEdit),
      m_device(new QComboBox),
      m_threads(new QSpinBox),
      m_maxTokens(new QSpinBox),
      m_temperature(new QDoubleSpinBox),
      m_sampleTopK(new QSpinBox),
      m_topP(new QDoubleSpinBox),
      m_seed(new QSpinBox),
      m_saliencyMethod(new QComboBox),
      m_saliencyTarget(new QComboBox),
      m_lensMode(new QComboBox),
      m_topK(new QSpinBox),
      m_factorCount(new QSpinBox),
      m_projectionLayer(new QSpinBox),
      m_runButton(new QPushButton(tr("Run"))),
      m_cancelButton(new QPushButton(tr("Cancel"))),
      m_progress(new QProgressBar),
      m_output(new QLabel),
      m_modelInfo(new QLabel(tr("(run to load the model)"))),
      m_tabs(new QTabWidget),
      m_saliency(new SaliencyView(m_selection)),
      m_lens(new LensView(m_selection)),
      m_factors(new FactorsView(m_selection)),
      m_projection(new ProjectionView(m_selection)),
      m_image(new ImageView),
      m_lab(new PromptLabView)
{
    setWindowTitle(QStringLiteral("Spyglass %1").arg(QString::fromLatin1(kVersion)));
    m_prompt->setPlaceholderText(tr("Type a prompt, then press Run (Ctrl+Return)"));
    m_prompt->setMaximumHeight(90);
    m_output->setWordWrap(true);
    m_output->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* modelRow = new QHBoxLayout;
    m_modelPath->setPlaceholderText(tr("Hugging Face model folder (config.json, model.safetensors, tokenizer)"));
    auto* browse = new QPushButton(tr("Open…"));
    modelRow->addWidget(new QLabel(tr("Model:")));
    modelRow->addWidget(m_modelPath, 1);
    modelRow->addWidget(browse);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_runButton);
    buttons->addWidget(m_cancelButton);
    buttons->addWidget(m_progress, 1);

    m_tabs->addTab(m_saliency, tr("Saliency"));
    m_tabs->addTab(m_lens, tr("Logit lens"));
    m_tabs->addTab(m_factors, tr("Factors"));
    m_tabs->addTab(m_projection, tr("Activation map"));
    m_tabs->addTab(m_image, tr("Image"));
    m_tabs->addTab(m_lab, tr("Prompt lab"));

    auto* left = new QWidget;
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(m_prompt);
    leftLayout->addLayout(buttons);
    leftLayout->addWidget(m_output);
    leftLayout->addWidget(m_tabs, 1);

    auto* splitter = new QSplitter;
    splitter->addWidget(left);
    splitter->addWidget(buildSettings());
    splitter->setStretchFactor(0, 4);

    auto* central = new QWidget;
    auto* layout = new QVBoxLayout(central);
    layout->addWidget(m_banner);
    layout->addLayout(modelRow);
    layout->addWidget(splitter, 1);
    setCentralWidget(central);
    statusBar()->showMessage(QString::fromStdString(core::runtimeDescription()));
    resize(1280, 860);
    setAcceptDrops(true);
    buildMenus();
    setRunning(false);

    connect(browse, &QPushButton::clicked, this, &MainWindow::chooseModel);
    connect(m_runButton, &QPushButton::clicked, this, &MainWindow::run);
    connect(m_cancelButton, &QPushButton::clicked, m_service, &InferenceService::cancel);
    auto runCurrent = [this] {
        if (!m_runButton->isEnabled()) return;
        if (m_tabs->currentWidget() == m_image) runImage(m_image->request());
        else if (m_tabs->currentWidget() == m_lab) runLab(m_lab->request());
        else run();
    };
    new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this, runCurrent);
    new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Enter), this, runCurrent);
    connect(m_image, &ImageView::runRequested, this, &MainWindow::runImage);
    connect(m_lab, &PromptLabView::runRequested, this, &MainWindow::runLab);
    connect(m_lab, &PromptLabView::message, this, [this](const QString& text) { statusBar()->showMessage(text, 8000); });
    connect(m_service, &InferenceService::labReady, this, [this](const LabResultPtr& result) {
        m_lab->setResult(result);
        m_lab->setBusy(false);
        setRunning(false);
        m_progress->setRange(0, 1);
        m_progress->setValue(1);
        m_progress->setFormat(tr("done"));
    });
    connect(m_image, &ImageView::message, this, [this](const QString& text) { statusBar()->showMessage(text, 8000); });
    connect(m_service, &InferenceService::imagePreviewReady, m_image, &ImageView::showPreview);
    connect(m_service, &InferenceService::imageReady, this, [this](const DiffusionResultPtr& result) {
        m_image->setResult(result);
        m_image->setBusy(false);
        setRunning(false);
        m_progress->setRange(0, 1);
        m_progress->setValue(1);
        m_progress->setFormat(tr("done"));
    });
    new QShortcut(QKeySequence(Qt::Key_Escape), this, [this] { m_service->cancel(); });
    connect(m_service, &InferenceService::progressed, this, [this](const QString& stage, int done, int total) {
        m_progress->setRange(0, std::max(total, 0));
        m_progress->setValue(done);
        m_progress->setFormat(total > 1 ? QStringLiteral("%1 %2/%3").arg(stage).arg(done).arg(total) : stage);
    });
    connect(m_service, &InferenceService::promptTokensReady, this, [this](const QStringList& tokens) {
        m_saliency->startLive(m_methods, tokens);
        m_output->setText(tokens.join(QString()).toHtmlEscaped());
    });
    connect(m_service, &InferenceService::saliencyRowReady, this, [this](int method, const QString& text, const core::SaliencyRow& row) {
        m_saliency->addLiveRow(method, text, row);
        if (method == 0) m_output->setText(m_output->text() + QStringLiteral("<b>%1</b>").arg(text.toHtmlEscaped()));
    });
    connect(m_service, &InferenceService::reportReady, this, &MainWindow::onReport);
    connect(m_service, &InferenceService::notice, this, [this](const QString& text) {
        statusBar()->showMessage(text, 15000);
        m_progress->setFormat(text);
    });
    connect(m_service, &InferenceService::partialReportReady, m_lens, &LensView::setReport);  // lens columns fill in live
    connect(m_factors, &FactorsView::recomputeRequested, this, [this](int k, int firstLayer, int endLayer) {
        if (!m_report) return;
        SectionRequest request;
        request.modelPath = m_modelPath->text().trimmed();
        request.device = m_device->currentData().toString();
        request.threads = m_threads->value();
        request.base = m_report;
        request.options.seed = static_cast<uint64_t>(m_seed->value());
        request.options.factorCount = k;
        request.options.factorLayerBegin = firstLayer;
        request.options.factorLayerEnd = endLayer;
        m_factors->setRecomputing(true);
        setRunning(true);
        m_service->submitSection(request);
    });
    connect(m_projection, &ProjectionView::reprojectRequested, this, [this](int layer, const QString& source) {
        if (!m_report) return;
        SectionRequest request;
        request.section = SectionRequest::Section::Projection;
        request.modelPath = m_modelPath->text().trimmed();
        request.device = m_device->currentData().toString();
        request.threads = m_threads->value();
        request.base = m_report;
        request.options.seed = static_cast<uint64_t>(m_seed->value());
        request.options.projectionLayer = layer;
        request.options.projectionSource = source.toStdString();
        m_projection->setRecomputing(true);
        setRunning(true);
        m_service->submitSection(request);
    });
    connect(m_service, &InferenceService::generationFailed, this, [this](const QString& message) {
        m_factors->setRecomputing(false);
        m_projection->setRecomputing(false);
        m_banner->showMessage(message);
        setRunning(false);
        m_image->setBusy(false);
        m_lab->setBusy(false);
        m_progress->setFormat(tr("failed"));
    });
    connect(m_service, &InferenceService::generationCancelled, this, [this] {
        m_factors->setRecomputing(false);
        m_projection->setRecomputing(false);
        setRunning(false);
        m_image->setBusy(false);
        m_lab->setBusy(false);
        m_progress->setFormat(tr("cancelled"));
    });
}

void MainWindow::buildMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("Open model folder…"), QKeySequence::Open, this, &MainWindow::chooseModel);
    file->addAction(tr("Open session…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open session"), QString(), tr("Spyglass session (*.spyglass)"));
        if (!path.isEmpty()) openSession(path);
    });
    file->addAction(tr("Open last session"), this, [this] { openSession(autosavePath()); });
    file->addAction(tr("Save session…"), QKeySequence::Save, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save session"), QStringLiteral("analysis.spyglass"), tr("Spyglass session (*.spyglass)"));
        if (!path.isEmpty()) saveSessionTo(path);
    });
    file->addSeparator();
    file->addAction(tr("Export view as figure…"), QKeySequence(Qt::CTRL | Qt::Key_E), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export figure"), QString(), tr("PNG (*.png);;SVG (*.svg);;PDF (*.pdf)"));
        if (path.isEmpty()) return;
        int dpi = QSettings().value(QStringLiteral("figureDpi"), 150).toInt();
        if (QFileInfo(path).suffix().toLower() != QLatin1String("svg")) {
            bool ok = false;
            dpi = QInputDialog::getInt(this, tr("Export figure"), tr("Resolution (dots per inch):"), dpi, 72, 1200, 50, &ok);
            if (!ok) return;
            QSettings().setValue(QStringLiteral("figureDpi"), dpi);
        }
        if (const QString error = exportCurrentView(path, dpi); !error.isEmpty()) m_banner->showMessage(error);
    });
    file->addAction(tr("Export view data as CSV…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export CSV"), QString(), tr("CSV (*.csv)"));
        if (path.isEmpty()) return;
        if (const QString error = exportCurrentView(path); !error.isEmpty()) m_banner->showMessage(error);
    });
    file->addAction(tr("Export report JSON…"), this, [this] {
        if (!m_report) return m_banner->showMessage(tr("Run an analysis first."));
        const QString path = QFileDialog::getSaveFileName(this, tr("Export report"), QStringLiteral("report.json"), tr("JSON (*.json)"));
        if (path.isEmpty()) return;
        try {
            core::writeReport(*m_report, path.toStdString());
        } catch (const std::exception& e) {
            m_banner->showMessage(QString::fromStdString(e.what()));
        }
    });
    m_recentModels = file->addMenu(tr("Recent models"));
    m_recentPrompts = file->addMenu(tr("Recent prompts"));
    file->addSeparator();
    file->addAction(tr("Quit"), QKeySequence::Quit, this, &QWidget::close);
    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(tr("Copy view as image"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C), this, [this] {
        QGuiApplication::clipboard()->setImage(renderFigure(m_tabs->currentWidget(), 150, currentCaption()));
        statusBar()->showMessage(tr("Copied the %1 view").arg(m_tabs->tabText(m_tabs->currentIndex())), 3000);
    });
    rebuildRecentMenus();
    QMenu* viewMenu = menuBar()->addMenu(tr("&View"));
    QMenu* themes = viewMenu->addMenu(tr("Theme"));
    auto* themeGroup = new QActionGroup(this);
    const Theme saved = themeFromName(QSettings().value(QStringLiteral("theme")).toString());
    for (const auto& [theme, label] : {std::pair{Theme::System, tr("System")}, std::pair{Theme::Light, tr("Light")}, std::pair{Theme::Dark, tr("Dark")}}) {
        QAction* action = themes->addAction(label, this, [this, theme = theme] { setTheme(theme); });
        action->setCheckable(true);
        action->setChecked(theme == saved);
        themeGroup->addAction(action);
    }
    if (saved != Theme::System) applyTheme(saved);
    QMenu* examples = menuBar()->addMenu(tr("&Examples"));
    for (const ExamplePrompt& example : examplePrompts()) {
        QAction* action = examples->addAction(example.title, this, [this, example] {
            setPrompt(example.prompt);
            m_maxTokens->setValue(example.maxNewTokens);
            statusBar()->showMessage(example.lookAt, 15000);
        });
        action->setToolTip(example.lookAt);
    }
    examples->addSeparator();
    QAction* labDemo = examples->addAction(tr("Prompt lab: which magic chunks change the circle?"), this, [this] { showLabDemo(); });
    labDemo->setToolTip(tr("On the shipped shape model: a base prompt plus a magic list where 'striped' changes the object, "
                           "'on a white background' changes only the rest, and the others can be deleted"));
    examples->setToolTipsVisible(true);
}

void MainWindow::showLabDemo()
{
    // The shipped spyglass-shapes model learned shapes, colours, places, stripes and backgrounds,
    // and saw the magic chunks only as noise.
    m_lab->setBase(QStringLiteral("a big red circle at the top left"));
    m_lab->setAppended(QStringLiteral("masterpiece, striped, 8k, on a white background, best quality"));
    m_lab->setSeeds(QStringLiteral("1,2"));
    m_lab->setSteps(20);
    m_tabs->setCurrentWidget(m_lab);
    statusBar()->showMessage(tr("Press Run the lab, then drag a box around the circle at the top left"), 15000);
}

void MainWindow::setImageModelPath(const QString& path)
{
    m_image->setModelPath(path);
    m_lab->setModelPath(path);
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
    m_maxTokens->setRange(1, 512);
    m_maxTokens->setValue(8);
    m_temperature->setRange(0, 5);
    m_temperature->setSingleStep(0.1);
    m_temperature->setSpecialValueText(tr("0 (greedy)"));
    m_temperature->setToolTip(tr("0: greedy, as Ecco. Above 0: sample; every view explains the token actually drawn."));
    m_sampleTopK->setRange(0, 100000);
    m_sampleTopK->setSpecialValueText(tr("off"));
    m_topP->setRange(0.01, 1);
    m_topP->setSingleStep(0.05);
    m_topP->setValue(1);
    m_seed->setRange(0, std::numeric_limits<int>::max());
    m_seed->setToolTip(tr("Seed for sampling, NMF and k-means: the same seed gives the same run"));
    auto updateSampling = [this] {
        const bool sampling = m_temperature->value() > 0;
        m_sampleTopK->setEnabled(sampling);
        m_topP->setEnabled(sampling);
    };
    connect(m_temperature, &QDoubleSpinBox::valueChanged, this, updateSampling);
    updateSampling();
    for (const char* m : {"grad_x_input", "gradient", "integrated_gradients", "occlusion"}) m_saliencyMethod->addItem(QString::fromLatin1(m));
    m_saliencyMethod->addItem(tr("all four"));
    m_saliencyTarget->addItems({QStringLiteral("prob"), QStringLiteral("logit")});
    m_lensMode->addItems({QStringLiteral("normed"), QStringLiteral("raw"), QStringLiteral("sublayer")});
    m_topK->setRange(1, 100);
    m_topK->setValue(10);
    m_factorCount->setRange(0, 50);
    m_factorCount->setSpecialValueText(tr("auto (min(10, positions))"));
    m_projectionLayer->setRange(-1, 1000);
    m_projectionLayer->setSpecialValueText(tr("last"));
    m_projectionLayer->setValue(-1);

    auto* box = new QWidget;
    auto* form = new QFormLayout(box);
    form->addRow(tr("Device"), m_device);
    form->addRow(tr("Threads"), m_threads);
    form->addRow(tr("New tokens"), m_maxTokens);
    form->addRow(tr("Temperature"), m_temperature);
    form->addRow(tr("Sample top-k"), m_sampleTopK);
    form->addRow(tr("Sample top-p"), m_topP);
    form->addRow(tr("Seed"), m_seed);
    form->addRow(tr("Saliency"), m_saliencyMethod);
    form->addRow(tr("Saliency target"), m_saliencyTarget);
    form->addRow(tr("Lens mode"), m_lensMode);
    form->addRow(tr("Lens top-k"), m_topK);
    form->addRow(tr("Factors"), m_factorCount);
    form->addRow(tr("Map layer"), m_projectionLayer);
    m_modelInfo->setWordWrap(true);
    m_modelInfo->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(tr("Model"), m_modelInfo);
    return box;
}

void MainWindow::setModelPath(const QString& path) { m_modelPath->setText(path); }
void MainWindow::setPrompt(const QString& prompt) { m_prompt->setPlainText(prompt); }
QString MainWindow::outputText() const { return m_output->text(); }

void MainWindow::chooseModel()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open model folder"), m_modelPath->text());
    if (!dir.isEmpty()) m_modelPath->setText(dir);
}

void MainWindow::runImage(DiffusionRequest request)
{
    m_banner->hide();
    if (request.modelPath.isEmpty()) {
        m_banner->showMessage(tr("Choose an image model folder first (Image tab, Open…)."));
        return;
    }
    request.device = m_device->currentData().toString();
    request.threads = m_threads->value();
    setRunning(true);
    m_image->setBusy(true);
    m_service->submitDiffusion(std::move(request));
}

void MainWindow::runLab(LabRequest request)
{
    m_banner->hide();
    if (request.modelPath.isEmpty()) request.modelPath = m_image->request().modelPath;
    if (request.modelPath.isEmpty()) {
        m_banner->showMessage(tr("Choose an image model folder first (Prompt lab tab, Open…)."));
        return;
    }
    request.device = m_device->currentData().toString();
    request.threads = m_threads->value();
    setRunning(true);
    m_lab->setBusy(true);
    m_service->submitLab(std::move(request));
}

void MainWindow::setRunning(bool running)
{
    m_runButton->setEnabled(!running);
    m_cancelButton->setEnabled(running);
}

void MainWindow::run()
{
    m_banner->hide();
    AnalysisRequest request;
    request.modelPath = m_modelPath->text().trimmed();
    request.device = m_device->currentData().toString();
    request.threads = m_threads->value();
    request.prompt = m_prompt->toPlainText();
    core::AnalysisOptions& o = request.options;
    o.maxNewTokens = m_maxTokens->value();
    o.temperature = static_cast<float>(m_temperature->value());
    o.sampleTopK = m_sampleTopK->value();
    o.sampleTopP = static_cast<float>(m_topP->value());
    o.seed = static_cast<uint64_t>(m_seed->value());
    o.saliencyMethods = m_saliencyMethod->currentIndex() == 4
                            ? std::vector<std::string>{"grad_x_input", "gradient", "integrated_gradients", "occlusion"}
                            : std::vector<std::string>{m_saliencyMethod->currentText().toStdString()};
    o.saliencyTarget = m_saliencyTarget->currentText().toStdString();
    o.lensMode = m_lensMode->currentText().toStdString();
    o.lensTopK = m_topK->value();
    if (m_factorCount->value() > 0) o.factorCount = m_factorCount->value();
    o.projectionLayer = m_projectionLayer->value();
    if (request.modelPath.isEmpty()) {
        m_banner->showMessage(tr("Choose a model folder first (Open…)."));
        return;
    }
    remember(QStringLiteral("recentModels"), request.modelPath);
    remember(QStringLiteral("recentPrompts"), request.prompt);
    m_methods.clear();
    for (const auto& m : o.saliencyMethods) m_methods << QString::fromStdString(m + " (" + o.saliencyTarget + ")");
    setRunning(true);
    m_service->submitAnalysis(request);
}

QString MainWindow::modelInfoText() const { return m_modelInfo->text(); }

void MainWindow::onReport(const ReportPtr& report)
{
    m_report = report;
    const core::ReportModel& m = report->model;
    m_modelInfo->setText(tr("%1\n%2 layers · %3 heads · d_model %4 · vocabulary %5\nsha256 %6…")
                             .arg(QString::fromStdString(m.architecture))
                             .arg(m.layerCount)
                             .arg(m.headCount)
                             .arg(m.modelWidth)
                             .arg(m.vocabSize)
                             .arg(QString::fromStdString(m.sha256.substr(0, 12))));
    m_saliency->setReport(report);
    m_lens->setReport(report);
    m_factors->setReport(report);
    m_projection->setReport(report);
    QString text;
    for (const auto& t : report->tokens) {
        const auto it = report->tokenTexts.find(t.id);
        const QString piece = (it == report->tokenTexts.end() ? QString::number(t.id) : QString::fromStdString(it->second)).toHtmlEscaped();
        text += t.generated ? QStringLiteral("<b>%1</b>").arg(piece) : piece;
    }
    m_output->setText(text);
    setRunning(false);
    m_progress->setRange(0, 1);
    m_progress->setValue(1);
    m_progress->setFormat(tr("done"));
    if (m_selection->position() < 0 && !report->saliency.empty() && !report->saliency.front().rows.empty())
        m_selection->select(report->saliency.front().rows.front().position);
    saveSessionTo(autosavePath());  // the last run survives a crash or a quit
}

void MainWindow::remember(const QString& key, const QString& value)
{
    if (value.trimmed().isEmpty()) return;
    QSettings store;
    QStringList list = store.value(key).toStringList();
    list.removeAll(value);
    list.prepend(value);
    while (list.size() > 10) list.removeLast();
    store.setValue(key, list);
    rebuildRecentMenus();
}

void MainWindow::rebuildRecentMenus()
{
    const QSettings store;
    m_recentModels->clear();
    for (const QString& path : store.value(QStringLiteral("recentModels")).toStringList())
        m_recentModels->addAction(path, this, [this, path] { setModelPath(path); });
    m_recentPrompts->clear();
    for (const QString& prompt : store.value(QStringLiteral("recentPrompts")).toStringList()) {
        QString label = prompt.simplified();
        if (label.size() > 60) label = label.left(57) + QStringLiteral("…");
        m_recentPrompts->addAction(label, this, [this, prompt] { setPrompt(prompt); });
    }
    m_recentModels->setEnabled(!m_recentModels->isEmpty());
    m_recentPrompts->setEnabled(!m_recentPrompts->isEmpty());
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    for (const QUrl& url : event->mimeData()->urls()) {
        const QFileInfo info(url.toLocalFile());
        if (info.isDir()) {
            setModelPath(info.absoluteFilePath());
            statusBar()->showMessage(tr("Model folder: %1").arg(info.absoluteFilePath()), 5000);
        } else if (info.suffix() == QLatin1String("spyglass")) {
            openSession(info.absoluteFilePath());
        } else {
            m_banner->showMessage(tr("%1: drop a model folder or a .spyglass session").arg(info.absoluteFilePath()));
        }
        return;
    }
}

QJsonObject MainWindow::settings() const
{
    return {{QStringLiteral("device"), m_device->currentData().toString()},
            {QStringLiteral("threads"), m_threads->value()},
            {QStringLiteral("max_new_tokens"), m_maxTokens->value()},
            {QStringLiteral("temperature"), m_temperature->value()},
            {QStringLiteral("sample_top_k"), m_sampleTopK->value()},
            {QStringLiteral("top_p"), m_topP->value()},
            {QStringLiteral("seed"), m_seed->value()},
            {QStringLiteral("saliency"), m_saliencyMethod->currentText()},
            {QStringLiteral("saliency_target"), m_saliencyTarget->currentText()},
            {QStringLiteral("lens_mode"), m_lensMode->currentText()},
            {QStringLiteral("lens_top_k"), m_topK->value()},
            {QStringLiteral("factors"), m_factorCount->value()},
            {QStringLiteral("projection_layer"), m_projectionLayer->value()}};
}

void MainWindow::applySettings(const QJsonObject& s)
{
    auto pick = [](QComboBox* box, const QString& text) {
        const int i = box->findText(text);
        if (i >= 0) box->setCurrentIndex(i);
    };
    if (s.contains(QStringLiteral("device"))) m_device->setCurrentIndex(std::max(0, m_device->findData(s.value(QStringLiteral("device")).toString())));
    m_threads->setValue(s.value(QStringLiteral("threads")).toInt(m_threads->value()));
    m_maxTokens->setValue(s.value(QStringLiteral("max_new_tokens")).toInt(m_maxTokens->value()));
    m_temperature->setValue(s.value(QStringLiteral("temperature")).toDouble(m_temperature->value()));
    m_sampleTopK->setValue(s.value(QStringLiteral("sample_top_k")).toInt(m_sampleTopK->value()));
    m_topP->setValue(s.value(QStringLiteral("top_p")).toDouble(m_topP->value()));
    m_seed->setValue(s.value(QStringLiteral("seed")).toInt(m_seed->value()));
    pick(m_saliencyMethod, s.value(QStringLiteral("saliency")).toString());
    pick(m_saliencyTarget, s.value(QStringLiteral("saliency_target")).toString());
    pick(m_lensMode, s.value(QStringLiteral("lens_mode")).toString());
    m_topK->setValue(s.value(QStringLiteral("lens_top_k")).toInt(m_topK->value()));
    m_factorCount->setValue(s.value(QStringLiteral("factors")).toInt(m_factorCount->value()));
    m_projectionLayer->setValue(s.value(QStringLiteral("projection_layer")).toInt(m_projectionLayer->value()));
}

QString MainWindow::saveSessionTo(const QString& path)
{
    Session session;
    session.prompt = m_prompt->toPlainText();
    session.modelPath = m_modelPath->text();
    session.settings = settings();
    session.view = {{QStringLiteral("tab"), m_tabs->currentIndex()}, {QStringLiteral("selected_position"), m_selection->position()}};
    session.report = m_report;
    const QString error = saveSession(session, path);
    if (!error.isEmpty()) m_banner->showMessage(error);
    return error;
}

QString MainWindow::openSession(const QString& path)
{
    try {
        const Session session = loadSession(path);
        m_prompt->setPlainText(session.prompt);
        m_modelPath->setText(session.modelPath);
        applySettings(session.settings);
        if (session.report) {
            m_selection->select(-1);
            onReport(session.report);
        }
        m_tabs->setCurrentIndex(session.view.value(QStringLiteral("tab")).toInt(0));
        const int selected = session.view.value(QStringLiteral("selected_position")).toInt(-1);
        if (selected >= 0) m_selection->select(selected);
        statusBar()->showMessage(tr("Opened %1").arg(path), 5000);
        return {};
    } catch (const std::exception& e) {
        const QString message = QString::fromStdString(e.what());
        m_banner->showMessage(message);
        return message;
    }
}

void MainWindow::setTheme(Theme theme)
{
    applyTheme(theme);
    QSettings().setValue(QStringLiteral("theme"), themeName(theme));
}

FigureCaption MainWindow::currentCaption() const
{
    if (!m_report) return {};
    static const QStringList names{QStringLiteral("saliency"), QStringLiteral("lens"), QStringLiteral("factors"), QStringLiteral("projection")};
    return figureCaption(*m_report, names.value(m_tabs->currentIndex()));
}

QString MainWindow::exportCurrentView(const QString& path, int dpi)
{
    QWidget* view = m_tabs->currentWidget();
    if (view == m_lab) {
        if (!m_lab->result()) return tr("Run the lab first.");
        if (QFileInfo(path).suffix().toLower() == QLatin1String("png")) {
            QSaveFile file(path);
            if (!file.open(QIODevice::WriteOnly) || !m_lab->grab().toImage().save(&file, "PNG") || !file.commit()) return tr("%1: cannot write").arg(path);
            return {};
        }
        return exportFigure(view, path, dpi, {});
    }
    if (view == m_image) {
        if (!m_image->result()) return tr("Generate an image first.");
        const QString suffix = QFileInfo(path).suffix().toLower();
        if (suffix == QLatin1String("png")) {
            QSaveFile file(path);
            if (!file.open(QIODevice::WriteOnly) || !m_image->shownImage().save(&file, "PNG") || !file.commit())
                return tr("%1: cannot write").arg(path);
            return {};
        }
        if (suffix == QLatin1String("csv")) return tr("%1: use Export image, overlays and maps… in the Image tab for the maps").arg(path);
        return exportFigure(view, path, dpi, {});
    }
    if (QFileInfo(path).suffix().toLower() == QLatin1String("csv")) {
        QString csv;
        if (view == m_saliency) csv = m_saliency->toCsv();
        else if (view == m_lens) csv = m_lens->model()->toCsv();
        else if (view == m_factors) csv = m_factors->toCsv();
        else csv = m_projection->toCsv();
        return exportText(csv, path);
    }
    return exportFigure(view, path, dpi, currentCaption());
}

}  // namespace spyglass::ui
