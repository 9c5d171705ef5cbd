// The Patching tab on the random GPT-2 fixture: a run through the worker fills the heatmap with
// the engine's effects (the same cases tests/core/intervention_test.cpp checks against the
// independent float64 implementation), a click on a cell shows that run, exports write the
// figure and the CSV, and a bad request ends in the banner.
#include "pages/patching_page.h"
#include "gui_thread_check.h"
#include "main_window.h"
#include "views/error_banner.h"
#include "worker/inference_service.h"

#include <qcustomplot.h>
#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace spyglass::ui;

class PatchingPageTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        SPYGLASS_FORBID_TORCH_ON_GUI_THREAD();
    }
    void cleanupTestCase() { SPYGLASS_VERIFY_NO_TORCH_ON_GUI_THREAD(); }

    void runClickAndExport()
    {
        MainWindow window;
        window.resize(1200, 800);
        window.show();
        PatchingPage* page = window.patchingPage();
        window.tabs()->setCurrentWidget(page);
        page->setModelPath(QStringLiteral(SPYGLASS_FIXTURES_DIR "/gpt2-tiny-random"));
        // ids 16,11,362,11,513,11,604,11 and …,642,11 (tests/fixtures/interventions); "," = 11, "." = 13.
        page->setPrompts(QStringLiteral("1, 2, 3, 4,"), QStringLiteral("1, 2, 3, 5,"), QStringLiteral(","),
                         QStringLiteral("."));
        page->setSite(spyglass::core::PatchSite::ResidPre);
        QSignalSpy ready(window.service(), &InferenceService::patchReady);
        page->runPage();
        QVERIFY(ready.wait(30000));
        const PatchOutcomePtr outcome = page->outcome();
        QVERIFY(outcome);
        QCOMPARE(outcome->result.layers.size(), size_t(2));
        QCOMPARE(outcome->result.positions.size(), size_t(8));
        QCOMPARE(outcome->cleanTokens.size(), 8);
        QCOMPARE(outcome->answer, 11);
        QCOMPARE(outcome->wrong, 13);
        // Positions before the first difference change nothing; the differing one at layer 0 restores it.
        QVERIFY(std::abs(outcome->result.effect[0][0]) < 1e-4);
        QVERIFY(std::abs(outcome->result.effect[0][6] - 1.0) < 1e-4);
        auto* map = qobject_cast<QCPColorMap*>(page->plot()->plottable(0));
        QVERIFY(map);
        QCOMPARE(map->data()->keySize(), 8);
        QCOMPARE(map->data()->valueSize(), 2);
        QCOMPARE(map->data()->cell(6, 0), outcome->result.effect[0][6]);

        // A click on the cell (layer 0, position 6) shows that run.
        const QPoint cell(static_cast<int>(page->plot()->xAxis->coordToPixel(6)),
                          static_cast<int>(page->plot()->yAxis->coordToPixel(0)));
        QTest::mouseClick(page->plot(), Qt::LeftButton, {}, cell);
        QVERIFY2(page->cellText().contains(QStringLiteral("layer 0, position 6")), qPrintable(page->cellText()));
        QVERIFY(!page->selectCell(2, 0));

        QTemporaryDir dir;
        QCOMPARE(page->exportView(dir.filePath(QStringLiteral("patch.png")), 96), QString());
        QVERIFY(!QImage(dir.filePath(QStringLiteral("patch.png"))).isNull());
        QCOMPARE(page->exportView(dir.filePath(QStringLiteral("patch.csv")), 96), QString());
        QFile csv(dir.filePath(QStringLiteral("patch.csv")));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(csv.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 1 + 2 * 8);
        QCOMPARE(lines.front(), QStringLiteral("site,layer,position,token,effect,patched_metric"));
        if (!qEnvironmentVariableIsEmpty("SPYGLASS_SCREENSHOT_DIR"))
            window.grab().save(qEnvironmentVariable("SPYGLASS_SCREENSHOT_DIR") + QStringLiteral("/patching.png"));

        // Heads: layers × heads, with an intervention applied to every run.
        page->setSite(spyglass::core::PatchSite::Head);
        page->setInterventions(QStringLiteral("neuron:1:3*2"));
        QSignalSpy heads(window.service(), &InferenceService::patchReady);
        page->runPage();
        QVERIFY(heads.wait(30000));
        QCOMPARE(page->outcome()->result.positions.size(), size_t(4));
        QCOMPARE(page->outcome()->request.interventions, std::vector<std::string>{"neuron:1:3*2"});

        // Prompts of different lengths: one line in the banner.
        page->setPrompts(QStringLiteral("1, 2, 3"), QStringLiteral("1, 2"), QStringLiteral(","), QStringLiteral("."));
        page->setInterventions(QString());
        QSignalSpy failed(window.service(), &InferenceService::generationFailed);
        page->runPage();
        QVERIFY(failed.wait(30000));
        QVERIFY(window.errorBanner()->message().contains(QStringLiteral("equal token length")));
    }
};

QTEST_MAIN(PatchingPageTest)
#include "patching_page_test.moc"
