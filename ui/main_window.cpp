#include "main_window.h"

#include "pages/image_view.h"
#include "pages/language_page.h"
#include "pages/prompt_lab_view.h"
#include "run_controller.h"
#include "run_progress.h"
#include "runtime_bar.h"
#include "session_store.h"
#include "views/error_banner.h"
#include "views/token_selection.h"
#include "window_menus.h"

#include "spyglass/version.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QMimeData>
#include <QSettings>
#include <QShortcut>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include <nlohmann/json.hpp>

namespace spyglass::ui {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      m_controller(new RunController(this)),
      m_sessions(new SessionStore(this)),
      m_banner(new ErrorBanner),
      m_runtime(new RuntimeBar),
      m_progress(new RunProgress(m_controller)),
      m_tabs(new QTabWidget),
      m_language(new LanguagePage(m_controller)),
      m_image(new ImageView(m_controller)),
      m_lab(new PromptLabView(m_controller))
{
    setWindowTitle(QStringLiteral("Spyglass %1").arg(QString::fromLatin1(kVersion)));
    m_tabs->addTab(m_language, tr("Language model"));
    m_tabs->addTab(m_image, tr("Image"));
    m_tabs->addTab(m_lab, tr("Prompt lab"));
    m_tabs->setCornerWidget(m_runtime);
    auto* central = new QWidget;
    auto* layout = new QVBoxLayout(central);
    layout->addWidget(m_banner);
    layout->addWidget(m_tabs, 1);
    setCentralWidget(central);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->showMessage(QString::fromStdString(core::runtimeDescription()));
    resize(1280, 860);
    setAcceptDrops(true);
    new WindowMenus(this);

    m_controller->setRunSettings(m_runtime->settings());
    connect(m_runtime, &RuntimeBar::changed, m_controller, &RunController::setRunSettings);
    for (Page* page : {static_cast<Page*>(m_language), static_cast<Page*>(m_image), static_cast<Page*>(m_lab)})
        connect(page, &Page::message, this, [this](const QString& text) { statusBar()->showMessage(text, 15000); });
    connect(m_controller, &RunController::runStarted, m_banner, &QWidget::hide);
    connect(m_controller, &RunController::failed, m_banner, &ErrorBanner::showMessage);
    connect(m_controller, &RunController::notice, this, [this](const QString& text) { statusBar()->showMessage(text, 15000); });
    connect(m_controller, &RunController::runFinished, this, [this](RunController::RunKind kind) {
        if ((kind == RunController::RunKind::Analysis || kind == RunController::RunKind::Section) && report()) m_sessions->save(currentSession(), SessionStore::autosavePath());
    });
    connect(m_sessions, &SessionStore::saved, this, [this](const QString& path, const QString& error) {
        if (!error.isEmpty()) m_banner->showMessage(error);
        else if (path != SessionStore::autosavePath()) statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
    });
    auto runCurrent = [this] { currentPage()->runPage(); };
    new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this, runCurrent);
    new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Enter), this, runCurrent);
    new QShortcut(QKeySequence(Qt::Key_Escape), this, [this] { m_controller->cancel(); });
}

void MainWindow::setModelPath(const QString& path) { m_language->setModelPath(path); }
void MainWindow::setPrompt(const QString& prompt) { m_language->setPrompt(prompt); }
void MainWindow::run() { m_language->run(); }
void MainWindow::runImage(const DiffusionRequest& request) { m_controller->generateImage(request); }
void MainWindow::runLab(const LabRequest& request) { m_controller->runLab(request); }
Page* MainWindow::currentPage() const { return qobject_cast<Page*>(m_tabs->currentWidget()); }
QTabWidget* MainWindow::viewTabs() const { return m_language->viewTabs(); }
InferenceService* MainWindow::service() const { return m_controller->service(); }
const ReportPtr& MainWindow::report() const { return m_controller->report(); }
QString MainWindow::outputText() const { return m_language->outputText(); }
QString MainWindow::modelInfoText() const { return m_language->modelInfoText(); }
TokenSelection* MainWindow::selection() const { return m_language->selection(); }
SaliencyView* MainWindow::saliencyView() const { return m_language->saliencyView(); }
LensView* MainWindow::lensView() const { return m_language->lensView(); }
FactorsView* MainWindow::factorsView() const { return m_language->factorsView(); }
ProjectionView* MainWindow::projectionView() const { return m_language->projectionView(); }
AnalysisSettings MainWindow::settings() const { return m_language->settings(); }
void MainWindow::applySettings(const AnalysisSettings& settings) { m_language->setSettings(settings); }

void MainWindow::setImageModelPath(const QString& path)
{
    m_image->setModelPath(path);
    m_lab->setModelPath(path);
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

QString MainWindow::exportCurrentView(const QString& path, int dpi) { return currentPage()->exportView(path, dpi); }

void MainWindow::setTheme(Theme theme)
{
    applyTheme(theme);
    QSettings().setValue(QStringLiteral("theme"), themeName(theme));
}

core::Session MainWindow::currentSession() const
{
    core::Session session;
    session.prompt = m_language->prompt().toStdString();
    session.modelPath = m_language->modelPath().toStdString();
    nlohmann::json settings = nlohmann::json::parse(m_language->settings().toJson());
    const RunSettings run = m_runtime->settings();
    settings["device"] = run.device.toStdString();
    settings["threads"] = run.threads;
    session.settingsJson = settings.dump();
    session.viewJson = nlohmann::json{{"tab", m_tabs->currentIndex()},
                                      {"view", m_language->viewTabs()->currentIndex()},
                                      {"selected_position", m_language->selection()->position()}}
                           .dump();
    session.report = report();
    return session;
}

QString MainWindow::saveSessionTo(const QString& path)
{
    const QString error = m_sessions->saveAndWait(currentSession(), path);
    if (!error.isEmpty()) m_banner->showMessage(error);
    return error;
}

void MainWindow::saveSessionInBackground(const QString& path) { m_sessions->save(currentSession(), path); }

QString MainWindow::openSession(const QString& path)
{
    try {
        const core::Session session = SessionStore::load(path);
        m_language->setPrompt(QString::fromStdString(session.prompt));
        m_language->setModelPath(QString::fromStdString(session.modelPath));
        m_language->setSettings(AnalysisSettings::fromJson(session.settingsJson));
        const auto settings = nlohmann::json::parse(session.settingsJson);
        RunSettings run = m_runtime->settings();
        if (settings.contains("device") && settings["device"].is_string()) run.device = QString::fromStdString(settings["device"].get<std::string>());
        if (settings.contains("threads") && settings["threads"].is_number_integer()) run.threads = settings["threads"].get<int>();
        m_runtime->setSettings(run);
        if (session.report) {
            m_language->selection()->select(-1);
            m_controller->showReport(session.report, QString::fromStdString(session.modelPath));
        }
        const auto view = nlohmann::json::parse(session.viewJson);
        m_tabs->setCurrentIndex(view.value("tab", 0));
        m_language->showView(view.value("view", 0));
        if (const int selected = view.value("selected_position", -1); selected >= 0) m_language->selection()->select(selected);
        statusBar()->showMessage(tr("Opened %1").arg(path), 5000);
        return {};
    } catch (const std::exception& e) {
        const QString message = QString::fromStdString(e.what());
        m_banner->showMessage(message);
        return message;
    }
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

}  // namespace spyglass::ui
