// The four views on a full run of the fixture model: populated with the report's tokens and
// numbers, linked selection, item-model checks, exports (PNG/SVG/PDF/CSV) that are real figures.
#include "gui_thread_check.h"
#include "main_window.h"
#include "models/lens_table_model.h"
#include "pages/language_page.h"
#include "run_controller.h"
#include "theme.h"
#include "views/contrast.h"
#include "views/factors_view.h"
#include "views/lens_view.h"
#include "views/projection_view.h"
#include "views/saliency_view.h"
#include "views/summary_view.h"
#include "views/token_selection.h"
#include "views/token_strip.h"
#include "worker/inference_service.h"

#include <qcustomplot.h>
#include <QAbstractItemModelTester>
#include <QFile>
#include <QImage>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

#include "spyglass/report_json.h"
#include "spyglass/report_summary.h"

#include <filesystem>

using namespace spyglass::ui;

class ViewsTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);  // autosave and settings go to a test folder
        QCoreApplication::setOrganizationName(QStringLiteral("spyglass-tests"));
        QSettings().clear();
        m_window = new MainWindow;
        m_window->resize(1200, 800);
        m_window->show();
        m_window->setModelPath(QStringLiteral(SPYGLASS_FIXTURES_DIR "/gpt2-tiny-random"));
        m_window->setPrompt(QStringLiteral("1, 2, 3, 4,"));
        SPYGLASS_FORBID_TORCH_ON_GUI_THREAD();
        QVERIFY(m_window->languagePage()->showsEmptyState());  // a hint and the examples, not empty axes
        int rows = 0, columns = 0, tokensAtFirstColumn = 0;
        std::optional<int> firstRank;
        bool promptColumnsEmpty = false;
        connect(m_window->controller(), &RunController::reportUpdated, this,
                [&](const ReportPtr& live, const spyglass::core::ReportUpdate& update) {
                    rows += std::holds_alternative<spyglass::core::SaliencyRowReady>(update) ? 1 : 0;
                    if (std::holds_alternative<spyglass::core::LensColumnReady>(update) && columns++ == 0) {
                        tokensAtFirstColumn = static_cast<int>(live->tokens.size());
                        firstRank = live->lens->cells[2][7].nextRank;
                        promptColumnsEmpty = live->lens->cells[2][3].topIds.empty();
                    }
                });
        QSignalSpy report(m_window->service(), &InferenceService::reportReady);
        m_window->run();
        QVERIFY(report.wait(60000));
        QVERIFY(!m_window->languagePage()->showsEmptyState());
        QCOMPARE(rows, 8);     // rows streamed live, one per generated token
        QCOMPARE(columns, 8);  // and lens columns
        QCOMPARE(tokensAtFirstColumn, 9);
        QCOMPARE(firstRank, std::optional<int>(1));
        QVERIFY(promptColumnsEmpty);  // prompt columns come with the final report
    }
    void cleanupTestCase()
    {
        delete m_window;
        SPYGLASS_VERIFY_NO_TORCH_ON_GUI_THREAD();
    }

    void saliencyShowsEccosFirstRow()
    {
        SaliencyView* view = m_window->saliencyView();
        QCOMPARE(view->rowCount(0), 8);
        m_window->selection()->select(8);  // the first generated token
        const auto& tokens = view->strip()->tokens();
        QCOMPARE(tokens.size(), 16);
        QCOMPARE(tokens[0].text, QStringLiteral("1"));
        QVERIFY(tokens[0].toolTip.contains(QStringLiteral("15.93%")));  // Ecco: 0.1593
        QVERIFY(tokens[7].toolTip.contains(QStringLiteral("23.35%")));  // Ecco: 0.2335, the row maximum
        QVERIFY(tokens[7].background.alphaF() > tokens[5].background.alphaF());
        QVERIFY(view->toCsv().count(QLatin1Char('\n')) == 1 + 8 + 9 + 10 + 11 + 12 + 13 + 14 + 15);
    }

    void lensTableMatchesTheReport()
    {
        LensTableModel* model = m_window->lensView()->model();
        QAbstractItemModelTester tester(model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model->rowCount(), 3);
        QCOMPARE(model->columnCount(), 16);
        QCOMPARE(model->headerData(0, Qt::Vertical, Qt::DisplayRole).toString(), QStringLiteral("embed"));
        const auto& cell = m_window->report()->lens->cells[2][7];
        QCOMPARE(model->data(model->index(2, 7), LensTableModel::NextRankRole).toInt(), *cell.nextRank);
        QCOMPARE(*cell.nextRank, 1);  // the last normed block is the model's own greedy choice
        QCOMPARE(model->firstTopLayer(7), 2);
        QVERIFY(model->data(model->index(2, 7), Qt::FontRole).value<QFont>().bold());
        model->setMode(LensTableModel::Mode::Rank);
        QCOMPARE(model->data(model->index(2, 7), Qt::DisplayRole).toInt(), 1);
        model->setMode(LensTableModel::Mode::Probability);
        QVERIFY(model->data(model->index(1, 3), Qt::ToolTipRole).toString().contains(QStringLiteral("1.")));
    }

    void modelInfoShowsTheFamily()
    {
        QVERIFY(m_window->modelInfoText().startsWith(
            QStringLiteral("gpt2\n2 layers · 4 heads · d_model 64 · vocabulary 50257")));
    }

    void factorsAndMapCoverEveryToken()
    {
        QCOMPARE(m_window->factorsView()->strip()->tokens().size(), 16);
        QCOMPARE(m_window->factorsView()->plot()->graphCount(), 10);
        QCOMPARE(m_window->projectionView()->pointCount(), 16);
    }

    void factorsRecomputeInTheBackground()
    {
        QSignalSpy report(m_window->service(), &InferenceService::reportReady);
        const auto before = m_window->report();
        emit m_window->factorsView()->recomputeRequested(3, 1, 2);
        QVERIFY(report.wait(30000));
        const auto after = m_window->report();
        QCOMPARE(after->factors->k, 3);
        QCOMPARE(after->factors->layers, std::vector<int>{1});
        QCOMPARE(after->factors->strengths.size(), size_t(3));
        QCOMPARE(after->lens->cells.size(), before->lens->cells.size());  // the rest is kept
        QCOMPARE(m_window->factorsView()->plot()->graphCount(), 3);
    }

    void mapRecomputesForAnotherLayer()
    {
        QSignalSpy report(m_window->service(), &InferenceService::reportReady);
        emit m_window->projectionView()->reprojectRequested(0, spyglass::core::ProjectionSource::Resid);
        QVERIFY(report.wait(30000));
        QCOMPARE(m_window->report()->projection->layer, 0);
        QCOMPARE(m_window->report()->projection->source, spyglass::core::ProjectionSource::Resid);
        QCOMPARE(m_window->projectionView()->pointCount(), 16);
    }

    void selectionIsLinked()
    {
        m_window->selection()->select(3);
        QCOMPARE(m_window->factorsView()->strip()->selected(), 3);
        QCOMPARE(m_window->saliencyView()->strip()->selected(), 3);
        emit m_window->factorsView()->strip()->tokenClicked(5);
        QCOMPARE(m_window->selection()->position(), 5);
        TokenStrip* strip = m_window->saliencyView()->strip();
        m_window->viewTabs()->setCurrentIndex(0);
        QTest::qWait(20);
        QTest::mouseMove(strip, QPoint(12, 12));  // over the first token
        QTRY_COMPARE(m_window->selection()->position(), 0);
    }

    void exportsRealFigures()
    {
        QTemporaryDir dir;
        for (int tab = 0; tab < 4; ++tab) {
            m_window->viewTabs()->setCurrentIndex(tab);
            QTest::qWait(50);
            for (const char* suffix : {"png", "svg", "pdf", "csv"}) {
                const QString path = dir.filePath(QStringLiteral("view%1.%2").arg(tab).arg(QLatin1String(suffix)));
                QCOMPARE(m_window->exportCurrentView(path), QString());
                QVERIFY2(QFile(path).size() > 200, qPrintable(path));
            }
            const QImage image(dir.filePath(QStringLiteral("view%1.png").arg(tab)));
            QVERIFY(!image.isNull());
            QVERIFY(image.width() >= m_window->viewTabs()->currentWidget()->width());
            QSet<QRgb> colours;
            for (int y = 0; y < image.height(); y += 7)
                for (int x = 0; x < image.width(); x += 7) colours.insert(image.pixel(x, y));
            QVERIFY(colours.size() > 20);  // not uniform
            if (qEnvironmentVariableIsSet("SPYGLASS_KEEP_RENDERS"))
                QFile::copy(dir.filePath(QStringLiteral("view%1.png").arg(tab)),
                            QStringLiteral("/tmp/view%1.png").arg(tab));
        }
        QVERIFY(m_window->exportCurrentView(dir.filePath(QStringLiteral("x.gif")))
                    .contains(QStringLiteral("unknown figure format")));
    }

    void exportsCarryATitleBlock()
    {
        QTemporaryDir dir;
        m_window->viewTabs()->setCurrentIndex(0);
        const QString png = dir.filePath(QStringLiteral("saliency.png"));
        QCOMPARE(m_window->exportCurrentView(png, 96), QString());
        const QImage image(png);
        QWidget* view = m_window->viewTabs()->currentWidget();
        QVERIFY(image.height() > view->height() + 20);  // the title block sits above the view
        int dark = 0;
        for (int y = 0; y < image.height() - view->height(); ++y)
            for (int x = 0; x < image.width(); ++x) dark += qGray(image.pixel(x, y)) < 100 ? 1 : 0;
        QVERIFY(dark > 200);  // it holds text
        const QString svg = dir.filePath(QStringLiteral("lens.svg"));
        m_window->viewTabs()->setCurrentIndex(1);
        QCOMPARE(m_window->exportCurrentView(svg), QString());
        QFile file(svg);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(file.readAll());
        QVERIFY(text.contains(QStringLiteral("Logit lens — normed mode")));
        QVERIFY(text.contains(QStringLiteral("gpt2-tiny-random")));
        QVERIFY(text.contains(QStringLiteral("greedy")));
    }

    void darkThemeKeepsTextReadable()
    {
        m_window->setTheme(Theme::Dark);
        QTRY_VERIFY(m_window->palette().color(QPalette::Window).lightnessF() < 0.3);
        LensTableModel* model = m_window->lensView()->model();
        for (const auto mode : {LensTableModel::Mode::Probability, LensTableModel::Mode::Rank}) {
            model->setMode(mode);
            for (int r = 0; r < model->rowCount(); ++r)
                for (int c = 0; c < model->columnCount(); ++c) {
                    const QVariant background = model->index(r, c).data(Qt::BackgroundRole);
                    if (!background.isValid()) continue;
                    const QVariant text = model->index(r, c).data(Qt::ForegroundRole);
                    QVERIFY2(text.isValid(),
                             "a coloured cell without its own text colour takes the palette's (white in dark)");
                    QVERIFY(contrastRatio(text.value<QColor>(), background.value<QColor>()) >= 4.5);
                }
        }
        model->setMode(LensTableModel::Mode::Probability);
        QVERIFY(contrastRatio(readableTextOn(QColor(255, 200, 200)), QColor(255, 200, 200)) >= 4.5);
        QCOMPARE(readableTextOn(QColor(120, 0, 0, 40), QColor(0x2b, 0x2d, 0x31)),
                 QColor(Qt::white));                                                            // faint over dark
        QCOMPARE(readableTextOn(QColor(120, 0, 0, 40), QColor(Qt::white)), QColor(Qt::black));  // faint over light
        // Figures exported from the dark theme still print on white.
        QTemporaryDir dir;
        m_window->viewTabs()->setCurrentIndex(2);
        const QString png = dir.filePath(QStringLiteral("factors.png"));
        QCOMPARE(m_window->exportCurrentView(png, 96), QString());
        QCOMPARE(QImage(png).pixelColor(2, 2), QColor(Qt::white));
        if (qEnvironmentVariableIsSet("SPYGLASS_KEEP_RENDERS")) m_window->grab().save(QStringLiteral("/tmp/dark.png"));
        QVERIFY(m_window->palette().color(QPalette::Window).lightnessF() < 0.3);  // the export left the theme alone
        m_window->setTheme(Theme::System);
    }

    void remembersRecentPromptsAndModels()
    {
        const QSettings store;
        QCOMPARE(store.value(QStringLiteral("recentPrompts")).toStringList().value(0), QStringLiteral("1, 2, 3, 4,"));
        QVERIFY(store.value(QStringLiteral("recentModels"))
                    .toStringList()
                    .value(0)
                    .endsWith(QStringLiteral("gpt2-tiny-random")));
    }

    void sessionReopensWithoutRecomputing()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("a.spyglass"));
        m_window->selection()->select(9);
        m_window->viewTabs()->setCurrentIndex(1);
        QCOMPARE(m_window->saveSessionTo(path), QString());
        MainWindow other;
        QSignalSpy progress(other.service(), &InferenceService::progressed);
        QCOMPARE(other.openSession(path), QString());
        QCOMPARE(progress.count(), 0);  // nothing ran
        QCOMPARE(other.viewTabs()->currentIndex(), 1);
        QCOMPARE(other.selection()->position(), 9);
        QCOMPARE(other.lensView()->model()->rowCount(), 3);
        QCOMPARE(other.report()->tokens.size(), m_window->report()->tokens.size());
        QCOMPARE(other.report()->saliency[0].rows[2].scores, m_window->report()->saliency[0].rows[2].scores);
        QVERIFY(other.settings() == m_window->settings());
        QFile bad(dir.filePath(QStringLiteral("bad.spyglass")));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("{\"schema\": \"other\"}");
        bad.close();
        QVERIFY(other.openSession(bad.fileName()).contains(QStringLiteral("not a Spyglass session")));
    }

    // A batch folder (here: the run's report twice) and its summary.json open in the summary window
    // with the numbers summarizeReports gives (#19 item 2).
    void datasetSummary()
    {
        QTemporaryDir dir;
        const std::filesystem::path folder = dir.filePath(QStringLiteral("reports")).toStdString();
        std::filesystem::create_directories(folder);
        spyglass::core::writeReport(*m_window->report(), folder / "a.json");
        spyglass::core::writeReport(*m_window->report(), folder / "b.json");
        QCOMPARE(m_window->openSummary(QString::fromStdString(folder.string())), QString());
        SummaryView* view = m_window->summaryView();
        QVERIFY(view->isVisible());
        const auto expected = spyglass::core::summarizeReports({*m_window->report(), *m_window->report()});
        QCOMPARE(view->summary().reports, 2);
        QCOMPARE(QString::fromStdString(spyglass::core::summaryJson(view->summary())),
                 QString::fromStdString(spyglass::core::summaryJson(expected)));
        QCOMPARE(view->shareTable()->rowCount(), static_cast<int>(expected.shareByClass.size()) + 1);
        auto* bars = qobject_cast<QCPBars*>(view->histogram()->plottable(0));
        QVERIFY(bars);
        QCOMPARE(bars->data()->size(), static_cast<int>(expected.lensLayers.size()));
        QFile json(dir.filePath(QStringLiteral("summary.json")));
        QVERIFY(json.open(QIODevice::WriteOnly));
        json.write(QByteArray::fromStdString(spyglass::core::summaryJson(expected)));
        json.close();
        QCOMPARE(m_window->openSummary(json.fileName()), QString());
        QCOMPARE(view->summary().lensLayers, expected.lensLayers);
        QVERIFY(view->exportFigure(dir.filePath(QStringLiteral("summary.png"))).isEmpty());
        QVERIFY(m_window->openSummary(dir.filePath(QStringLiteral("missing.json")))
                    .contains(QStringLiteral("cannot be read")));
    }

private:
    MainWindow* m_window = nullptr;
};

QTEST_MAIN(ViewsTest)
#include "views_test.moc"
