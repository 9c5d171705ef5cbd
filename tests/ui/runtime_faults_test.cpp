// Runtime faults in the app (#9): out of memory under a memory cap, cancel at every stage of an
// analysis and of an image run, and the model folder deleted while loaded each end in a clear
// banner (or a clean cancel) and a window that still runs; killing the app while it saves its
// session leaves the previous session intact.
#include "gui_thread_check.h"
#include "main_window.h"
#include "views/error_banner.h"
#include "worker/inference_service.h"

#include "spyglass/runtime.h"
#include "spyglass/session.h"

#include <QDir>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>

#include <filesystem>
#include <set>

using namespace spyglass::ui;
namespace core = spyglass::core;

namespace {

const QString kModel = QStringLiteral(SPYGLASS_FIXTURES_DIR "/gpt2-tiny-random");

// Runs the window and waits for its report (true) or its failure banner (false).
bool runAndWait(MainWindow& window)
{
    QSignalSpy report(window.service(), &InferenceService::reportReady);
    QSignalSpy failed(window.service(), &InferenceService::generationFailed);
    window.run();
    for (int i = 0; i < 600 && report.isEmpty() && failed.isEmpty(); ++i) QTest::qWait(100);
    return !report.isEmpty();
}

AnalysisRequest analysisRequest()
{
    AnalysisRequest r;
    r.modelPath = kModel;
    r.prompt = QStringLiteral("1, 2, 3, 4,");
    r.options.maxNewTokens = 3;
    r.options.saliencyMethods = {spyglass::core::SaliencyMethod::GradXInput,
                                 spyglass::core::SaliencyMethod::IntegratedGradients,
                                 spyglass::core::SaliencyMethod::Occlusion};
    r.options.integratedGradientSteps = 6;
    r.options.factorCount = 3;
    return r;
}

DiffusionRequest imageRequest()
{
    DiffusionRequest r;
    r.modelPath = QStringLiteral(SPYGLASS_FIXTURES_DIR "/sd-tiny-random");
    r.options.prompt = "a photo of a hand";
    r.options.steps = 3;
    r.options.width = r.options.height = 32;
    return r;
}

// Submits `submit` once per stage and presses Cancel when that stage is reported. The worker
// stops at its next check, so a run ends in generationCancelled — or, when the stage was its last
// few milliseconds, in its result — and never in a failure. `finished` is the result signal.
template <typename Submit, typename Finished>
void cancelAtEachStage(InferenceService& service, const QStringList& stages, Finished finished, Submit submit)
{
    for (const QString& stage : stages) {
        QSignalSpy cancelled(&service, &InferenceService::generationCancelled);
        QSignalSpy failed(&service, &InferenceService::generationFailed);
        QSignalSpy done(&service, finished);
        bool seen = false;
        const auto connection =
            QObject::connect(&service, &InferenceService::progressed, &service, [&](const QString& s) {
                if (s != stage || seen) return;
                seen = true;
                service.cancel();
            });
        submit();
        for (int i = 0; i < 600 && cancelled.isEmpty() && done.isEmpty() && failed.isEmpty(); ++i) QTest::qWait(100);
        QObject::disconnect(connection);
        QVERIFY2(seen, qPrintable(QStringLiteral("stage never reported: ") + stage));
        QVERIFY2(failed.isEmpty(), qPrintable(stage));
        QVERIFY2(!cancelled.isEmpty() || !done.isEmpty(), qPrintable(stage));
        if (stage == stages.first())
            QVERIFY2(!cancelled.isEmpty(), qPrintable(stage));  // a long stage: the cancel lands
    }
}

}  // namespace

class RuntimeFaultsTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        SPYGLASS_FORBID_TORCH_ON_GUI_THREAD();
    }
    void cleanupTestCase() { SPYGLASS_VERIFY_NO_TORCH_ON_GUI_THREAD(); }

    void outOfMemoryIsABannerAndTheWindowRunsAfterwards()
    {
        MainWindow window;
        window.setModelPath(kModel);
        window.setPrompt(QStringLiteral("1, 2, 3, 4,"));
        core::setMemoryLimit(0);
        QVERIFY(runAndWait(window));  // the model is loaded and cached
        core::setMemoryLimit(core::tensorBytesInUse() + (64u << 10));
        const bool ran = runAndWait(window);
        core::setMemoryLimit(0);
        QVERIFY(!ran);
        const QString message = window.errorBanner()->message();
        QVERIFY2(
            message.contains(QStringLiteral("out of memory: ")) && message.contains(QStringLiteral("memory limit of")),
            qPrintable(message));
        QVERIFY(runAndWait(window));
    }

    void cancelAtEveryStageOfAnAnalysisAndAnImage()
    {
        InferenceService service;
        cancelAtEachStage(service,
                          {QStringLiteral("generating"), QStringLiteral("saliency"), QStringLiteral("lens"),
                           QStringLiteral("factors"), QStringLiteral("projection")},
                          &InferenceService::reportReady, [&] { service.submitAnalysis(analysisRequest()); });
        cancelAtEachStage(service,
                          {QStringLiteral("denoising"), QStringLiteral("decoding"), QStringLiteral("heatmaps")},
                          &InferenceService::imageReady, [&] { service.submitDiffusion(imageRequest()); });
        QSignalSpy report(&service, &InferenceService::reportReady);
        service.submitAnalysis(analysisRequest());
        QVERIFY(report.wait(60000));
        QSignalSpy image(&service, &InferenceService::imageReady);
        service.submitDiffusion(imageRequest());
        QVERIFY(image.wait(60000));
    }

    void contextWindowIsABannerOrANotice()
    {
        QString prompt = QStringLiteral("1,");
        for (int i = 0; i < 61; ++i) prompt += QStringLiteral(" 1,");  // 124 tokens of the 128-token window
        MainWindow window;
        window.setModelPath(kModel);
        window.setPrompt(prompt);
        QSignalSpy notice(window.service(), &InferenceService::notice);
        QVERIFY(runAndWait(window));
        QVERIFY(notice.wait(5000) || !notice.isEmpty());
        QVERIFY2(window.statusBar()->currentMessage().contains(
                     QStringLiteral("stopped at the model's context window (128 tokens)")),
                 qPrintable(window.statusBar()->currentMessage()));
        window.setPrompt(prompt + QLatin1Char(' ') + prompt);
        QVERIFY(!runAndWait(window));
        QVERIFY2(window.errorBanner()->message().contains(
                     QStringLiteral("tokens but the model's context window is 128 tokens")),
                 qPrintable(window.errorBanner()->message()));
        window.setPrompt(QStringLiteral("1, 2, 3,"));
        QVERIFY(runAndWait(window));
    }

    void deletedModelFolderIsABannerAndAnotherModelRuns()
    {
        QTemporaryDir dir;
        const QString copy = dir.filePath(QStringLiteral("model"));
        std::filesystem::copy(kModel.toStdString(), copy.toStdString());
        MainWindow window;
        window.setModelPath(copy);
        window.setPrompt(QStringLiteral("1, 2, 3, 4,"));
        QVERIFY(runAndWait(window));
        QVERIFY(QDir(copy).removeRecursively());
        QVERIFY(!runAndWait(window));
        const QString message = window.errorBanner()->message();
        QVERIFY2(message.contains(QStringLiteral("no longer exists (deleted or moved after it was loaded)")),
                 qPrintable(message));
        window.setModelPath(kModel);
        QVERIFY(runAndWait(window));
    }

    void killingTheAppWhileItSavesLeavesThePreviousSession()
    {
        // The app autosaves its session after each run; SPYGLASS_TEST_PAUSE_MID_WRITE_MS makes it
        // stop half-way through writing and say so on stderr, where it is killed (SIGKILL). (Qt
        // may write into an unnamed O_TMPFILE file, so there need not be a temporary file to watch.)
        QTemporaryDir home;
        const QString folder = home.filePath(QStringLiteral("spyglass/spyglass"));
        QVERIFY(QDir().mkpath(folder));
        const QString last = folder + QStringLiteral("/last.spyglass");
        core::Session previous;
        previous.prompt = "the previous session";
        previous.modelPath = kModel.toStdString();
        core::writeSession(previous, last.toStdString());
        QProcess app;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_DATA_HOME"), home.path());
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        env.insert(QStringLiteral("SPYGLASS_TEST_PAUSE_MID_WRITE_MS"), QStringLiteral("60000"));
        app.setProcessEnvironment(env);
        app.start(QStringLiteral(SPYGLASS_APP_PATH),
                  {kModel, QStringLiteral("--prompt"), QStringLiteral("1, 2, 3,"), QStringLiteral("--run")});
        QVERIFY(app.waitForStarted(10000));
        QByteArray err;
        auto halfWritten = [&] {
            err += app.readAllStandardError();
            return err.contains("paused mid-write for a test");
        };
        for (int i = 0; i < 1200 && !halfWritten() && app.state() == QProcess::Running; ++i) QTest::qWait(50);
        QVERIFY2(halfWritten(), err.constData());
        app.kill();
        QVERIFY(app.waitForFinished(10000));
        const core::Session after = core::readSession(last.toStdString());
        QCOMPARE(after.prompt, previous.prompt);
        QCOMPARE(after.modelPath, previous.modelPath);
    }
};

QTEST_MAIN(RuntimeFaultsTest)
#include "runtime_faults_test.moc"
