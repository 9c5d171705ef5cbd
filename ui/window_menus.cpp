#include "window_menus.h"

#include "example_prompts.h"
#include "main_window.h"
#include "pages/language_page.h"
#include "run_controller.h"
#include "session_store.h"
#include "theme.h"
#include "views/error_banner.h"

#include "spyglass/report_json.h"

#include <QActionGroup>
#include <QClipboard>
#include <QFileDialog>
#include <QFileInfo>
#include <QGuiApplication>
#include <QInputDialog>
#include <QMenuBar>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>

namespace spyglass::ui {

WindowMenus::WindowMenus(MainWindow* window) : QObject(window), m_window(window)
{
    buildFile();
    buildEditAndView();
    buildExamples();
    connect(window->languagePage(), &LanguagePage::analysisSubmitted, this,
            [this](const QString& model, const QString& prompt) {
                remember(QStringLiteral("recentModels"), model);
                remember(QStringLiteral("recentPrompts"), prompt);
            });
}

void WindowMenus::buildFile()
{
    MainWindow* w = m_window;
    QMenu* file = w->menuBar()->addMenu(tr("&File"));
    file->addAction(tr("Open model folder…"), QKeySequence::Open, w, [w] {
        const QString dir =
            QFileDialog::getExistingDirectory(w, tr("Open model folder"), w->languagePage()->modelPath());
        if (!dir.isEmpty()) w->setModelPath(dir);
    });
    file->addAction(tr("Open model file (.gguf, llama2.c .bin)…"), w, [w] {
        const QString path = QFileDialog::getOpenFileName(w, tr("Open model file"), w->languagePage()->modelPath(),
                                                          tr("Model files (*.gguf *.bin);;All files (*)"));
        if (!path.isEmpty()) w->setModelPath(path);
    });
    file->addAction(tr("Open session…"), w, [w] {
        const QString path =
            QFileDialog::getOpenFileName(w, tr("Open session"), QString(), tr("Spyglass session (*.spyglass)"));
        if (!path.isEmpty()) w->openSession(path);
    });
    file->addAction(tr("Open last session"), w, [w] { w->openSession(SessionStore::autosavePath()); });
    file->addAction(tr("Open dataset summary (summary.json)…"), w, [w] {
        const QString path = QFileDialog::getOpenFileName(w, tr("Open dataset summary"), QString(),
                                                          tr("Summary from spyglass-cli aggregate (*.json)"));
        if (!path.isEmpty()) w->openSummary(path);
    });
    file->addAction(tr("Summarize a batch folder of reports…"), w, [w] {
        const QString dir =
            QFileDialog::getExistingDirectory(w, tr("Folder of reports (spyglass-cli batch --out-dir)"));
        if (!dir.isEmpty()) w->openSummary(dir);
    });
    file->addAction(tr("Save session…"), QKeySequence::Save, w, [w] {
        const QString path = QFileDialog::getSaveFileName(w, tr("Save session"), QStringLiteral("analysis.spyglass"),
                                                          tr("Spyglass session (*.spyglass)"));
        if (!path.isEmpty()) w->saveSessionInBackground(path);
    });
    file->addSeparator();
    file->addAction(tr("Export view as figure…"), QKeySequence(Qt::CTRL | Qt::Key_E), this,
                    &WindowMenus::exportFigureAsked);
    file->addAction(tr("Export view data as CSV…"), w, [w] {
        const QString path = QFileDialog::getSaveFileName(w, tr("Export CSV"), QString(), tr("CSV (*.csv)"));
        if (path.isEmpty()) return;
        if (const QString error = w->exportCurrentView(path); !error.isEmpty()) w->errorBanner()->showMessage(error);
    });
    file->addAction(tr("Export report JSON…"), w, [w] {
        if (!w->report()) return w->errorBanner()->showMessage(tr("Run an analysis first."));
        const QString path =
            QFileDialog::getSaveFileName(w, tr("Export report"), QStringLiteral("report.json"), tr("JSON (*.json)"));
        if (path.isEmpty()) return;
        try {
            core::writeReport(*w->report(), path.toStdString());
        } catch (const std::exception& e) {
            w->errorBanner()->showMessage(QString::fromStdString(e.what()));
        }
    });
    m_recentModels = file->addMenu(tr("Recent models"));
    m_recentPrompts = file->addMenu(tr("Recent prompts"));
    file->addSeparator();
    file->addAction(tr("Quit"), QKeySequence::Quit, w, &QWidget::close);
    rebuildRecent();
}

void WindowMenus::exportFigureAsked()
{
    MainWindow* w = m_window;
    const QString path =
        QFileDialog::getSaveFileName(w, tr("Export figure"), QString(), tr("PNG (*.png);;SVG (*.svg);;PDF (*.pdf)"));
    if (path.isEmpty()) return;
    int dpi = QSettings().value(QStringLiteral("figureDpi"), 150).toInt();
    if (QFileInfo(path).suffix().toLower() != QLatin1String("svg")) {
        bool ok = false;
        dpi = QInputDialog::getInt(w, tr("Export figure"), tr("Resolution (dots per inch):"), dpi, 72, 1200, 50, &ok);
        if (!ok) return;
        QSettings().setValue(QStringLiteral("figureDpi"), dpi);
    }
    if (const QString error = w->exportCurrentView(path, dpi); !error.isEmpty()) w->errorBanner()->showMessage(error);
}

void WindowMenus::buildEditAndView()
{
    MainWindow* w = m_window;
    QMenu* edit = w->menuBar()->addMenu(tr("&Edit"));
    edit->addAction(tr("Copy view as image"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C), w, [w] {
        QGuiApplication::clipboard()->setImage(w->currentPage()->viewImage());
        w->statusBar()->showMessage(tr("Copied the %1 view").arg(w->tabs()->tabText(w->tabs()->currentIndex())), 3000);
    });
    QMenu* themes = w->menuBar()->addMenu(tr("&View"))->addMenu(tr("Theme"));
    auto* group = new QActionGroup(this);
    const Theme saved = themeFromName(QSettings().value(QStringLiteral("theme")).toString());
    for (const auto& [theme, label] : {std::pair{Theme::System, tr("System")}, std::pair{Theme::Light, tr("Light")},
                                       std::pair{Theme::Dark, tr("Dark")}}) {
        QAction* action = themes->addAction(label, w, [w, theme = theme] { w->setTheme(theme); });
        action->setCheckable(true);
        action->setChecked(theme == saved);
        group->addAction(action);
    }
    if (saved != Theme::System) applyTheme(saved);
}

void WindowMenus::buildExamples()
{
    MainWindow* w = m_window;
    QMenu* examples = w->menuBar()->addMenu(tr("&Examples"));
    for (const ExamplePrompt& example : examplePrompts()) {
        QAction* action = examples->addAction(example.title, w, [w, example] {
            w->tabs()->setCurrentWidget(w->languagePage());
            w->languagePage()->useExample(example);
        });
        action->setToolTip(example.lookAt);
    }
    examples->addSeparator();
    QAction* labDemo =
        examples->addAction(tr("Prompt lab: which magic chunks change the circle?"), w, &MainWindow::showLabDemo);
    labDemo->setToolTip(
        tr("On the shipped shape model: a base prompt plus a magic list where 'striped' changes the object, "
           "'on a white background' changes only the rest, and the others can be deleted"));
    examples->setToolTipsVisible(true);
}

void WindowMenus::remember(const QString& key, const QString& value)
{
    if (value.trimmed().isEmpty()) return;
    QSettings store;
    QStringList list = store.value(key).toStringList();
    list.removeAll(value);
    list.prepend(value);
    while (list.size() > 10) list.removeLast();
    store.setValue(key, list);
    rebuildRecent();
}

void WindowMenus::rebuildRecent()
{
    MainWindow* w = m_window;
    const QSettings store;
    m_recentModels->clear();
    for (const QString& path : store.value(QStringLiteral("recentModels")).toStringList())
        m_recentModels->addAction(path, w, [w, path] { w->setModelPath(path); });
    m_recentPrompts->clear();
    for (const QString& prompt : store.value(QStringLiteral("recentPrompts")).toStringList()) {
        QString label = prompt.simplified();
        if (label.size() > 60) label = label.left(57) + QStringLiteral("…");
        m_recentPrompts->addAction(label, w, [w, prompt] { w->setPrompt(prompt); });
    }
    m_recentModels->setEnabled(!m_recentModels->isEmpty());
    m_recentPrompts->setEnabled(!m_recentPrompts->isEmpty());
}

}  // namespace spyglass::ui
