// The Remote (SSH) device (#19 item 3), with the server started as a local process (a
// RemoteTarget without a host runs its CLI path directly; with a host the same frames go through
// `ssh HOST CLI serve --stdio`): an analysis, a factor recompute, one token's attention and an
// image run there equal the same on this computer and stream progress and previews; cancel stops
// a run; a server that exits, never says hello, speaks another
// version or dies mid-run is a banner naming the host, never a hang; the tabs that do not run
// remotely say so; ssh's command line quotes the CLI path and never prompts.
#include "gui_thread_check.h"
#include "main_window.h"
#include "run_controller.h"
#include "runtime_bar.h"
#include "views/error_banner.h"
#include "worker/inference_service.h"
#include "worker/remote_client.h"

#include "spyglass/report_json.h"
#include "spyglass/run_diff.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>

using namespace spyglass::ui;

namespace {

const QString kModel = QStringLiteral(SPYGLASS_FIXTURES_DIR "/gpt2-tiny-random");

RunSettings remoteSettings(const QString& cli)
{
    RunSettings s;
    s.device = QStringLiteral("remote");
    s.remote.cliPath = cli;
    return s;
}

spyglass::core::AnalysisOptions smallOptions()
{
    spyglass::core::AnalysisOptions o;
    o.maxNewTokens = 3;
    o.factorCount = 2;
    return o;
}

// An executable shell script in `dir` (a fake server).
QString script(const QTemporaryDir& dir, const QString& name, const QByteArray& body)
{
    const QString path = dir.filePath(name);
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write("#!/bin/sh\n" + body + "\n");
    f.close();
    f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    return path;
}

// The message of the one failure `controller` reports within `ms`.
QString failureOf(RunController& controller, int ms)
{
    QSignalSpy failed(&controller, &RunController::failed);
    if (!failed.wait(ms)) return QStringLiteral("(no failure within %1 ms)").arg(ms);
    return failed.first().first().toString();
}

}  // namespace

class RemoteDeviceTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        SPYGLASS_FORBID_TORCH_ON_GUI_THREAD();
    }
    void cleanupTestCase() { SPYGLASS_VERIFY_NO_TORCH_ON_GUI_THREAD(); }

    void anAnalysisOnTheRemoteDeviceEqualsTheLocalOne()
    {
        RunController controller;
        QSignalSpy changed(&controller, &RunController::reportChanged);
        QSignalSpy progressed(&controller, &RunController::progressed);
        QSignalSpy stages(&controller, &RunController::reportUpdated);
        controller.setRunSettings(RunSettings{});
        QVERIFY(controller.analyze(kModel, QStringLiteral("1, 2, 3,"), smallOptions()));
        QVERIFY(changed.wait(120000));
        const ReportPtr local = controller.report();
        const auto localStages = stages.count();
        const ReportPtr localLive = stages.last().first().value<ReportPtr>();

        controller.setRunSettings(remoteSettings(QStringLiteral(SPYGLASS_CLI_PATH)));
        progressed.clear();
        stages.clear();
        QVERIFY(controller.analyze(kModel, QStringLiteral("1, 2, 3,"), smallOptions()));
        QVERIFY(changed.wait(120000));
        const ReportPtr remote = controller.report();
        QVERIFY(remote != local);
        QVERIFY(progressed.count() > 0);
        // streamed stage by stage as a local run is: the same stages, the same live report
        QCOMPARE(stages.count(), localStages);
        QCOMPARE(spyglass::core::reportToJson(*stages.last().first().value<ReportPtr>()),
                 spyglass::core::reportToJson(*localLive));
        QCOMPARE(remote->tokens.size(), local->tokens.size());
        for (size_t i = 0; i < local->tokens.size(); ++i) QCOMPARE(remote->tokens[i].id, local->tokens[i].id);
        QCOMPARE(remote->saliency.size(), local->saliency.size());
        for (size_t r = 0; r < local->saliency[0].rows.size(); ++r)
            QCOMPARE(remote->saliency[0].rows[r].scores, local->saliency[0].rows[r].scores);
        QVERIFY(remote->lens.has_value());
        QCOMPARE(remote->lens->cells.size(), local->lens->cells.size());
        // the factors' loadings come too (the factor-ablation actions need them)
        QVERIFY(remote->factors && !remote->factors->loadings.values.empty());
        QCOMPARE(remote->factors->loadings.shape, local->factors->loadings.shape);
        QCOMPARE(remote->factors->loadings.values, local->factors->loadings.values);
        QVERIFY(controller.service()->remote()->connected());
        QVERIFY(controller.service()->remote()->serverDescription().contains(QStringLiteral("Spyglass")));

        // The factors recomputed with another k and one token's attention, there and here.
        QSignalSpy attention(&controller, &RunController::attentionReady);
        QVERIFY(controller.recomputeFactors(3, 0, -1, 0));
        QVERIFY(changed.wait(120000));
        const ReportPtr remoteFactors = controller.report();
        QVERIFY(controller.requestAttention(2));
        QVERIFY(attention.wait(60000));
        const auto remoteAttention = attention.takeFirst().first().value<AttentionOutcomePtr>();
        controller.setRunSettings(RunSettings{});
        controller.showReport(local, kModel);
        QVERIFY(controller.recomputeFactors(3, 0, -1, 0));
        QVERIFY(changed.wait(120000));
        const ReportPtr localFactors = controller.report();
        QVERIFY(controller.requestAttention(2));
        QVERIFY(attention.wait(60000));
        const auto localAttention = attention.takeFirst().first().value<AttentionOutcomePtr>();
        QCOMPARE(remoteFactors->factors->k, 3);
        QCOMPARE(remoteFactors->factors->strengths, localFactors->factors->strengths);
        QCOMPARE(remoteAttention->position, 2);
        QCOMPARE(remoteAttention->weights.shape, localAttention->weights.shape);
        QCOMPARE(remoteAttention->weights.values, localAttention->weights.values);
        controller.setRunSettings(remoteSettings(QStringLiteral(SPYGLASS_CLI_PATH)));

        // A second run reuses the connection (and the server's loaded model).
        QVERIFY(controller.analyze(kModel, QStringLiteral("4, 5,"), smallOptions()));
        QVERIFY(changed.wait(120000));
        QVERIFY(controller.report()->tokens.size() > 2);

        // Server-side errors come back as the banner's text, naming the host.
        QVERIFY(controller.analyze(QStringLiteral("/no/such/model"), QStringLiteral("x"), smallOptions()));
        const QString missing = failureOf(controller, 60000);
        QVERIFY2(missing.contains(QStringLiteral("/no/such/model")) && missing.contains(QStringLiteral("On ")),
                 qPrintable(missing));
        QVERIFY(!controller.busy());
    }

    // With interventions the remote run brings the runs without them, and the before/after diff is
    // the one a local run gives.
    void theInterventionDiffOfARemoteRunEqualsTheLocalOne()
    {
        RunController controller;
        QSignalSpy diffs(&controller, &RunController::diffChanged);
        QSignalSpy changed(&controller, &RunController::reportChanged);
        spyglass::core::AnalysisOptions o = smallOptions();
        o.interventionSpecs = {"attn:1*0.5", "head:0:1"};
        RunDiffPtr local, remote;
        for (const RunSettings& settings : {RunSettings{}, remoteSettings(QStringLiteral(SPYGLASS_CLI_PATH))}) {
            controller.setRunSettings(settings);
            diffs.clear();
            QVERIFY(controller.analyze(kModel, QStringLiteral("1, 2, 3,"), o));
            QVERIFY(changed.wait(120000));
            QVERIFY(!diffs.isEmpty());
            (local ? remote : local) = diffs.last().first().value<RunDiffPtr>();
        }
        QVERIFY(local && remote && local != remote);
        QCOMPARE(spyglass::core::runDiffJson(*remote), spyglass::core::runDiffJson(*local));
    }

    void cancelStopsARemoteRun()
    {
        RunController controller;
        controller.setRunSettings(remoteSettings(QStringLiteral(SPYGLASS_CLI_PATH)));
        QSignalSpy cancelled(&controller, &RunController::cancelled);
        QSignalSpy changed(&controller, &RunController::reportChanged);
        auto o = smallOptions();
        o.maxNewTokens = 60;  // long enough to be running when cancelled
        o.saliencyMethods = {spyglass::core::SaliencyMethod::IntegratedGradients};
        o.integratedGradientSteps = 200;
        bool once = false;
        connect(&controller, &RunController::progressed, this, [&](const QString& stage) {
            if (!once && stage != QStringLiteral("loading model")) {
                once = true;
                controller.cancel();
            }
        });
        QVERIFY(controller.analyze(kModel, QStringLiteral("1, 2, 3,"), o));
        QVERIFY(cancelled.wait(120000));
        QCOMPARE(changed.count(), 0);
        QVERIFY(!controller.busy());
    }

    void aLostConnectionIsABannerNeverAHang()
    {
        QTemporaryDir dir;
        RunController controller;
        const auto runThere = [&](const QString& cli, int ms) {
            controller.setRunSettings(remoteSettings(cli));
            controller.service()->remote()->setHelloTimeout(2000);
            controller.analyze(kModel, QStringLiteral("1, 2,"), smallOptions());
            return failureOf(controller, ms);
        };
        // The server cannot be started.
        QString m = runThere(dir.filePath(QStringLiteral("missing-cli")), 30000);
        QVERIFY2(m.contains(QStringLiteral("Could not start")) && m.contains(QStringLiteral("missing-cli")),
                 qPrintable(m));
        // It exits at once, saying why (as ssh does when it cannot connect).
        m = runThere(script(dir, QStringLiteral("refused"),
                            "echo 'ssh: connect to host gpu port 22: Connection refused' >&2; exit 255"),
                     30000);
        QVERIFY2(m.contains(QStringLiteral("Lost the connection")) && m.contains(QStringLiteral("Connection refused")),
                 qPrintable(m));
        // It never says hello.
        m = runThere(script(dir, QStringLiteral("silent"), "exec sleep 60"), 30000);
        QVERIFY2(m.contains(QStringLiteral("No answer from")), qPrintable(m));
        // It speaks another protocol version.
        m = runThere(script(dir, QStringLiteral("v2"),
                            R"(echo '{"type":"hello","protocol":"spyglass.serve","version":2}'; exec sleep 60)"),
                     30000);
        QVERIFY2(m.contains(QStringLiteral("protocol version 2")), qPrintable(m));
        // It dies in the middle of the run.
        m = runThere(script(dir, QStringLiteral("dies"),
                            R"(echo '{"type":"hello","protocol":"spyglass.serve","version":1}'; read line; exit 3)"),
                     30000);
        QVERIFY2(m.contains(QStringLiteral("Lost the connection")) && m.contains(QStringLiteral("exit status 3")),
                 qPrintable(m));
        QVERIFY(!controller.busy());
        // It cannot read the request (so cannot say whose it was): what waits on it fails.
        m = runThere(
            script(dir, QStringLiteral("unreadable"),
                   R"sh(echo '{"type":"hello","protocol":"spyglass.serve","version":1}'; read line; )sh"
                   R"sh(echo '{"type":"error","id":null,"kind":"protocol","message":"a line over 16 MiB"}'; )sh"
                   R"sh(exec sleep 60)sh"),
            30000);
        QVERIFY2(m.contains(QStringLiteral("could not read a request: a line over 16 MiB")), qPrintable(m));
        QVERIFY(!controller.busy());
        // An idle connection that ends is said too.
        const QString idle =
            script(dir, QStringLiteral("idle"),
                   R"sh(echo '{"type":"hello","protocol":"spyglass.serve","version":1}'; read line; )sh"
                   R"sh(printf '{"type":"result","id":%s,"exit":1,"error":"error: boom"}\n' )sh"
                   R"sh("$(echo "$line" | sed 's/.*"id":\([0-9]*\).*/\1/')"; sleep 1; exit 0)sh");
        m = runThere(idle, 30000);
        QVERIFY2(m.contains(QStringLiteral("boom")), qPrintable(m));
        m = failureOf(controller, 30000);
        QVERIFY2(m.contains(QStringLiteral("Lost the connection")), qPrintable(m));
    }

    void anImageOnTheRemoteDeviceEqualsTheLocalOne()
    {
        RunController controller;
        QSignalSpy ready(&controller, &RunController::imageReady);
        QSignalSpy previews(&controller, &RunController::imagePreviewReady);
        DiffusionRequest image;
        image.modelPath = QStringLiteral(SPYGLASS_FIXTURES_DIR "/sd-tiny-random");
        image.options.prompt = "a photo of a hand";
        image.options.steps = 3;
        image.options.seed = 5;
        image.options.previewEvery = 1;
        controller.setRunSettings(RunSettings{});
        QVERIFY(controller.generateImage(image));
        QVERIFY(ready.wait(120000));
        const auto local = ready.takeFirst().first().value<DiffusionResultPtr>();
        const int localPreviews = static_cast<int>(previews.count());
        previews.clear();

        controller.setRunSettings(remoteSettings(QStringLiteral(SPYGLASS_CLI_PATH)));
        QVERIFY(controller.generateImage(image));
        QVERIFY(ready.wait(120000));
        const auto remote = ready.takeFirst().first().value<DiffusionResultPtr>();
        QCOMPARE(previews.count(), localPreviews);
        QCOMPARE(remote->rgb, local->rgb);
        QCOMPARE(remote->heatmaps.words.size(), local->heatmaps.words.size());
        QCOMPARE(remote->heatmaps.wordMapsImage.values, local->heatmaps.wordMapsImage.values);
        QCOMPARE(remote->heatmaps.callMaps.size(), local->heatmaps.callMaps.size());
        QVERIFY(!controller.busy());
    }

    // Compare A/B and activation patching there equal the same here (every number, the token
    // texts the views label with); a bad token is the server's message naming the host.
    void compareAndPatchingOnTheRemoteDeviceEqualLocalOnes()
    {
        RunController controller;
        QSignalSpy compared(&controller, &RunController::compareReady);
        QSignalSpy patched(&controller, &RunController::patchReady);
        const auto runBoth = [&](const RunSettings& settings) {
            controller.setRunSettings(settings);
            controller.compare(kModel, QStringLiteral("1, 2, 3,"), QStringLiteral("1, 2, 4,"), smallOptions());
            const bool a = compared.wait(120000);
            PatchRequest p;
            p.modelPath = kModel;
            p.clean = QStringLiteral("1, 2, 3,");
            p.corrupt = QStringLiteral("1, 2, 4,");
            p.answer = QStringLiteral("#16");
            p.wrong = QStringLiteral("#17");
            p.site = spyglass::core::PatchSite::Head;
            controller.runPatch(p);
            const bool b = patched.wait(120000);
            return std::pair{a && b ? compared.takeFirst().first().value<ComparisonPtr>() : nullptr,
                             a && b ? patched.takeFirst().first().value<PatchOutcomePtr>() : nullptr};
        };
        const auto [localAb, localPatch] = runBoth(RunSettings{});
        const auto [remoteAb, remotePatch] = runBoth(remoteSettings(QStringLiteral(SPYGLASS_CLI_PATH)));
        QVERIFY(localAb && remoteAb && localPatch && remotePatch);
        QCOMPARE(remoteAb->alignment, localAb->alignment);
        QCOMPARE(remoteAb->a.tokens.size(), localAb->a.tokens.size());
        QCOMPARE(remoteAb->b.saliency[0].rows.back().scores, localAb->b.saliency[0].rows.back().scores);
        QVERIFY(remoteAb->factors.has_value());
        QCOMPARE(remoteAb->factors->strengths, localAb->factors->strengths);
        QCOMPARE(remotePatch->result.effect, localPatch->result.effect);
        QCOMPARE(remotePatch->result.wholeLayerEffect, localPatch->result.wholeLayerEffect);
        QCOMPARE(remotePatch->result.positions, localPatch->result.positions);
        QCOMPARE(remotePatch->cleanTokens, localPatch->cleanTokens);
        QCOMPARE(remotePatch->answerText, localPatch->answerText);
        QCOMPARE(remotePatch->architecture, localPatch->architecture);
        QCOMPARE(remotePatch->request.site, spyglass::core::PatchSite::Head);

        PatchRequest bad;
        bad.modelPath = kModel;
        bad.clean = QStringLiteral("1, 2,");
        bad.corrupt = QStringLiteral("1, 2, 3, 4,");
        bad.answer = QStringLiteral("#16");
        bad.wrong = QStringLiteral("#17");
        controller.runPatch(bad);
        const QString m = failureOf(controller, 60000);
        QVERIFY2(m.startsWith(QStringLiteral("On ")) && m.contains(QStringLiteral("equal token length")),
                 qPrintable(m));
    }

    // The prompt lab there: the same scores and images as here; a new region re-scores from the
    // runs kept on the server (no run generated again); Export writes the report's files here; a
    // chunk's <lora:…> tag is resolved against the server's files (the model's folder there).
    void thePromptLabOnTheRemoteDeviceEqualsTheLocalOne()
    {
        RunController controller;
        QSignalSpy ready(&controller, &RunController::labReady);
        QSignalSpy progressed(&controller, &RunController::progressed);
        LabRequest lab;
        lab.modelPath = QStringLiteral(SPYGLASS_FIXTURES_DIR "/sd-tiny-random");
        lab.options.base = "a photo of a hand";
        lab.options.chunks = {"masterpiece", "striped"};
        lab.options.steps = 2;
        controller.setRunSettings(RunSettings{});
        QVERIFY(controller.runLab(lab));
        QVERIFY(ready.wait(240000));
        const auto local = ready.takeFirst().first().value<LabResultPtr>();

        controller.setRunSettings(remoteSettings(QStringLiteral(SPYGLASS_CLI_PATH)));
        QVERIFY(controller.runLab(lab));
        QVERIFY(ready.wait(240000));
        const auto remote = ready.takeFirst().first().value<LabResultPtr>();
        QCOMPARE(remote->full, local->full);
        QCOMPARE(remote->without, local->without);
        QCOMPARE(remote->shortened, local->shortened);
        QCOMPARE(remote->mask, local->mask);
        QCOMPARE(remote->report.scores.size(), local->report.scores.size());
        for (size_t i = 0; i < local->report.scores.size(); ++i) {
            QCOMPARE(remote->report.scores[i].chunk, local->report.scores[i].chunk);
            QCOMPARE(remote->report.scores[i].inside, local->report.scores[i].inside);
            QCOMPARE(remote->report.scores[i].verdict, local->report.scores[i].verdict);
        }
        QCOMPARE(remote->report.shortenedPrompt, local->report.shortenedPrompt);

        // A region: scored from the server's cached runs, and exported here.
        QTemporaryDir out;
        lab.mask = spyglass::core::rectangleMask(0, 0, 16, 16, remote->width, remote->height);
        lab.exportDir = out.path();
        progressed.clear();
        QVERIFY(controller.runLab(lab));
        QVERIFY(ready.wait(120000));
        const auto region = ready.takeFirst().first().value<LabResultPtr>();
        QCOMPARE(region->mask, lab.mask);
        QVERIFY(region->report.regionArea < 1.0);
        for (const auto& args : progressed)
            QVERIFY2(!args.first().toString().startsWith(QStringLiteral("run ")), qPrintable(args.first().toString()));
        for (const char* f : {"index.json", "grid.png", "report.html", "full.png", "without-00.png"})
            QVERIFY2(QFile::exists(QDir(out.path()).filePath(QLatin1String(f))), f);

        // A LoRA chunk: the tag names a file in the model's folder on the server (a copy of the
        // fixture LoRA beside a copy of the model), which this computer's lookup never sees.
        QTemporaryDir there;
        const QString model = there.filePath(QStringLiteral("sd"));
        QVERIFY(QDir().mkpath(model));
        for (const QString& part : QDir(lab.modelPath).entryList(QDir::Dirs | QDir::Files | QDir::NoDotAndDotDot))
            QVERIFY(QFile::link(QDir(lab.modelPath).filePath(part), QDir(model).filePath(part)));
        QVERIFY(QFile::copy(QStringLiteral(SPYGLASS_FIXTURES_DIR "/sd-lora/sd-tiny-random-lora-kohya.safetensors"),
                            QDir(model).filePath(QStringLiteral("detail.safetensors"))));
        LabRequest withLora;
        withLora.modelPath = model;
        withLora.options = lab.options;
        withLora.options.chunks = {"masterpiece", "<lora:detail:0.8>"};
        QVERIFY(controller.runLab(withLora));
        QVERIFY(ready.wait(240000));
        const auto loraResult = ready.takeFirst().first().value<LabResultPtr>();
        const auto& scores = loraResult->report.scores;
        const auto lora =
            std::find_if(scores.begin(), scores.end(), [](const auto& s) { return s.chunk == "<lora:detail:0.8>"; });
        QVERIFY(lora != scores.end());
        QVERIFY(lora->inside > 0);
        withLora.options.chunks = {"masterpiece", "<lora:nowhere:0.8>"};
        QVERIFY(controller.runLab(withLora));
        const QString m = failureOf(controller, 60000);
        QVERIFY2(m.startsWith(QStringLiteral("On ")) && m.contains(QStringLiteral("<lora:nowhere>")), qPrintable(m));
    }

    // Cancel stops a remote lab between (or inside) its runs; no result comes.
    void cancelStopsARemoteLab()
    {
        RunController controller;
        controller.setRunSettings(remoteSettings(QStringLiteral(SPYGLASS_CLI_PATH)));
        QSignalSpy cancelled(&controller, &RunController::cancelled);
        QSignalSpy ready(&controller, &RunController::labReady);
        LabRequest lab;
        lab.modelPath = QStringLiteral(SPYGLASS_FIXTURES_DIR "/sd-tiny-random");
        lab.options.base = "a photo of a hand";
        lab.options.chunks = {"masterpiece", "striped", "8k"};
        lab.options.seeds = {0, 1, 2};
        lab.options.steps = 50;  // 15 runs: long enough to be running when cancelled
        bool once = false;
        connect(&controller, &RunController::progressed, this, [&](const QString& stage) {
            if (!once && stage.startsWith(QStringLiteral("run "))) {
                once = true;
                controller.cancel();
            }
        });
        QVERIFY(controller.runLab(lab));
        QVERIFY(cancelled.wait(120000));
        QVERIFY(once);
        QCOMPARE(ready.count(), 0);
        QVERIFY(!controller.busy());
    }

    void sshIsStartedInBatchModeWithTheCliPathQuoted()
    {
        const RemoteTarget t{QStringLiteral("me@gpu"), QStringLiteral("/opt/it's here/spyglass-cli")};
        QCOMPARE(t.program(), QStringLiteral("ssh"));
        const QStringList a = t.arguments();
        QVERIFY(a.contains(QStringLiteral("BatchMode=yes")));
        QVERIFY(a.contains(QStringLiteral("ServerAliveInterval=15")));
        QCOMPARE(a.at(a.size() - 3), QStringLiteral("me@gpu"));
        QCOMPARE(a.last(), QStringLiteral("'/opt/it'\\''s here/spyglass-cli' serve --stdio"));

        RuntimeBar bar;
        RunSettings s = remoteSettings(QStringLiteral("spyglass-cli"));
        s.remote.host = QStringLiteral("me@gpu");
        bar.setSettings(s);
        QCOMPARE(bar.settings(), s);
    }
};

QTEST_MAIN(RemoteDeviceTest)
#include "remote_device_test.moc"
