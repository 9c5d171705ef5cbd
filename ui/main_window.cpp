#include "main_window.h"

#include "pages/compare_page.h"
#include "pages/image_view.h"
#include "pages/language_page.h"
#include "pages/patching_page.h"
#include "pages/prompt_lab_view.h"
#include "run_controller.h"
#include "run_progress.h"
#include "runtime_bar.h"
#include "session_binding.h"
#include "session_store.h"
#include "views/error_banner.h"
#include "views/summary_view.h"
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
      m_lab(new PromptLabView(m_controller)),
      m_patching(new PatchingPage(m_controller)),
      m_compare(new ComparePage(m_controller, [this] { return m_language->settings(); })),
      m_binding(std::make_unique<SessionBinding>(m_language, m_runtime, m_tabs, m_controller))
{
    setWindowTitle(QStringLiteral("Spyglass %1").arg(QString::fromLatin1(kVersion)));
    m_tabs->addTab(m_language, tr("Language model"));
    m_tabs->addTab(m_image, tr("Image"));
    m_tabs->addTab(m_lab, tr("Prompt lab"));
    m_tabs->addTab(m_patching, tr("Patching"));
    m_tabs->addTab(m_compare, tr("Compare A/B"));
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
    for (Page* page : {static_cast<Page*>(m_language), static_cast<Page*>(m_image), static_cast<Page*>(m_lab),
                       static_cast<Page*>(m_patching), static_cast<Page*>(m_compare)})
        connect(page, &Page::message, this, [this](const QString& text) { statusBar()->showMessage(text, 15000); });
    connect(m_controller, &RunController::runStarted, m_banner, &QWidget::hide);
    connect(m_controller, &RunController::failed, m_banner, &ErrorBanner::showMessage);
    connect(m_controller, &RunController::notice, this,
            [this](const QString& text) { statusBar()->showMessage(text, 15000); });
    connect(m_controller, &RunController::runFinished, this, [this](RunController::RunKind kind) {
        if ((kind == RunController::RunKind::Analysis || kind == RunController::RunKind::Section) && report())
            m_sessions->save(m_binding->capture(), SessionStore::autosavePath());
    });
    connect(m_sessions, &SessionStore::saved, this, [this](const QString& path, const QString& error) {
        if (!error.isEmpty())
            m_banner->showMessage(error);
        else if (path != SessionStore::autosavePath())
            statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
    });
    auto runCurrent = [this] { currentPage()->runPage(); };
    new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this, runCurrent);
    new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Enter), this, runCurrent);
    new QShortcut(QKeySequence(Qt::Key_Escape), this, [this] { m_controller->cancel(); });
}

MainWindow::~MainWindow() = default;

void MainWindow::setModelPath(const QString& path)
{
    m_language->setModelPath(path);
    m_compare->setModelPath(path);
}
void MainWindow::setPrompt(const QString& prompt)
{
    m_language->setPrompt(prompt);
}
void MainWindow::run()
{
    m_language->run();
}
void MainWindow::runImage(const DiffusionRequest& request)
{
    m_controller->generateImage(request);
}
void MainWindow::runLab(const LabRequest& request)
{
    m_controller->runLab(request);
}
Page* MainWindow::currentPage() const
{
    return qobject_cast<Page*>(m_tabs->currentWidget());
}
QTabWidget* MainWindow::viewTabs() const
{
    return m_language->viewTabs();
}
InferenceService* MainWindow::service() const
{
    return m_controller->service();
}
const ReportPtr& MainWindow::report() const
{
    return m_controller->report();
}
QString MainWindow::outputText() const
{
    return m_language->outputText();
}
QString MainWindow::modelInfoText() const
{
    return m_language->modelInfoText();
}
TokenSelection* MainWindow::selection() const
{
    return m_language->selection();
}
SaliencyView* MainWindow::saliencyView() const
{
    return m_language->saliencyView();
}
LensView* MainWindow::lensView() const
{
    return m_language->lensView();
}
FactorsView* MainWindow::factorsView() const
{
    return m_language->factorsView();
}
ProjectionView* MainWindow::projectionView() const
{
    return m_language->projectionView();
}
AnalysisSettings MainWindow::settings() const
{
    return m_language->settings();
}
void MainWindow::applySettings(const AnalysisSettings& settings)
{
    m_language->setSettings(settings);
}

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

QString MainWindow::exportCurrentView(const QString& path, int dpi)
{
    return currentPage()->exportView(path, dpi);
}

void MainWindow::setTheme(Theme theme)
{
    applyTheme(theme);
    QSettings().setValue(QStringLiteral("theme"), themeName(theme));
}

QString MainWindow::saveSessionTo(const QString& path)
{
    const QString error = m_sessions->saveAndWait(m_binding->capture(), path);
    if (!error.isEmpty()) m_banner->showMessage(error);
    return error;
}

void MainWindow::saveSessionInBackground(const QString& path)
{
    m_sessions->save(m_binding->capture(), path);
}

QString MainWindow::openSession(const QString& path)
{
    try {
        m_binding->restore(SessionStore::load(path));
        statusBar()->showMessage(tr("Opened %1").arg(path), 5000);
        return {};
    } catch (const std::exception& e) {
        const QString message = QString::fromStdString(e.what());
        m_banner->showMessage(message);
        return message;
    }
}

QString MainWindow::openSummary(const QString& path)
{
    if (!m_summary) m_summary = SummaryView::window(this);
    const QString error = m_summary->open(path);
    if (!error.isEmpty()) m_banner->showMessage(error);
    return error;
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    for (const QUrl& url : event->mimeData()->urls()) {
        const QFileInfo info(url.toLocalFile());
        if (info.isDir() || info.suffix() == QLatin1String("gguf") || info.suffix() == QLatin1String("bin")) {
            setModelPath(info.absoluteFilePath());
            statusBar()->showMessage(tr("Model: %1").arg(info.absoluteFilePath()), 5000);
        } else if (info.suffix() == QLatin1String("spyglass")) {
            openSession(info.absoluteFilePath());
        } else {
            m_banner->showMessage(tr("%1: drop a model folder, a .gguf or llama2.c .bin file, or a .spyglass session")
                                      .arg(info.absoluteFilePath()));
        }
        return;
    }
}

}  // namespace spyglass::ui
