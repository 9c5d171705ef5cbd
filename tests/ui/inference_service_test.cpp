// The GUI's inference thread: results arrive, the newest request wins, cancel works, and errors
// become a banner instead of a crash (docs/architecture.md "Threads", issue #2's minimal window).
#include "worker/inference_service.h"
#include "gui_thread_check.h"
#include "main_window.h"
#include "pages/analysis_settings_panel.h"
#include "pages/compare_page.h"
#include "pages/intervention_list.h"
#include "pages/language_page.h"
#include "spyglass/safetensors.h"
#include "views/ab_compare_view.h"
#include "views/attention_view.h"
#include "views/error_banner.h"
#include "views/factors_view.h"
#include "views/intervention_diff_view.h"
#include "views/lens_view.h"
#include "views/token_selection.h"

#include <QAction>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <functional>

using namespace spyglass::ui;

namespace {

GenerationRequest tinyRequest(int tokens)
{
    GenerationRequest r;
    r.modelPath = QStringLiteral(SPYGLASS_FIXTURES_DIR "/gpt2-tiny-random");
    r.prompt = QStringLiteral("1, 2, 3, 4,");
    r.sampling.maxNewTokens = tokens;
    r.sampling.stopAtEos = false;
    return r;
}

}  // namespace

class InferenceServiceTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        SPYGLASS_FORBID_TORCH_ON_GUI_THREAD();
    }
    void cleanupTestCase() { SPYGLASS_VERIFY_NO_TORCH_ON_GUI_THREAD(); }

    void settingsRoundTripThroughJson()
    {
        AnalysisSettings s;
        s.temperature = 0.7;
        s.saliencyMethods = {spyglass::core::SaliencyMethod::Occlusion, spyglass::core::SaliencyMethod::Gradient};
        s.lensMode = spyglass::core::LensMode::Sublayer;
        s.factorCount = 4;
        QVERIFY(AnalysisSettings::fromJson(s.toJson()) == s);
        // Lenient: sessions of 0.1 wrote one saliency name or "all four"; bad fields keep defaults.
        const AnalysisSettings old =
            AnalysisSettings::fromJson(R"({"saliency":"all four","lens_mode":"tuned","seed":"x","top_p":0.5})");
        QCOMPARE(old.saliencyMethods.size(), size_t(4));
        QVERIFY(old.lensMode == spyglass::core::LensMode::Normed);
        QCOMPARE(old.seed, 0);
        QCOMPARE(old.topP, 0.5);
    }

    void generatesTheReferenceTokens()
    {
        InferenceService service;
        QSignalSpy finished(&service, &InferenceService::generationFinished);
        QSignalSpy tokens(&service, &InferenceService::tokenGenerated);
        service.submit(tinyRequest(4));
        QVERIFY(finished.wait(30000));
        QCOMPARE(finished.first().at(1).value<QVector<int>>(), (QVector<int>{25804, 42946, 11849, 48609}));
        QCOMPARE(tokens.count(), 4);
    }

    void newestRequestWins()
    {
        InferenceService service;
        QSignalSpy finished(&service, &InferenceService::generationFinished);
        service.submit(tinyRequest(100));
        service.submit(tinyRequest(2));
        QVERIFY(finished.wait(30000));
        QTest::qWait(200);
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.first().at(1).value<QVector<int>>().size(), 2);
    }

    void cancelStopsARun()
    {
        InferenceService service;
        QSignalSpy cancelled(&service, &InferenceService::generationCancelled);
        QSignalSpy finished(&service, &InferenceService::generationFinished);
        connect(&service, &InferenceService::tokenGenerated, &service, &InferenceService::cancel);
        service.submit(tinyRequest(120));
        QVERIFY(cancelled.wait(30000));
        QCOMPARE(finished.count(), 0);
    }

    void badFolderShowsABanner()
    {
        MainWindow window;
        window.setModelPath(QStringLiteral("/nonexistent/model"));
        window.setPrompt(QStringLiteral("hello"));
        QSignalSpy failed(window.service(), &InferenceService::generationFailed);
        window.run();
        QVERIFY(failed.wait(30000));
        QVERIFY(window.errorBanner()->isVisibleTo(&window));
        QVERIFY(window.errorBanner()->message().contains(QStringLiteral("/nonexistent/model': does not exist")));
    }

    void malformedCorpusShowsEachMessageInTheBanner()
    {
        // tests/fixtures/malformed (issue #9): each folder ends in its message in the window's
        // banner, and the window stays usable (a good model runs afterwards).
        QFile file(QStringLiteral(SPYGLASS_FIXTURES_DIR "/malformed/cases.json"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonArray cases =
            QJsonDocument::fromJson(file.readAll()).object().value(QStringLiteral("cases")).toArray();
        QVERIFY(cases.size() >= 15);
        QTemporaryDir empty;
        MainWindow window;
        window.setPrompt(QStringLiteral("1, 2,"));
        for (const auto& value : cases) {
            const QJsonObject c = value.toObject();
            const QString folder = c.value(QStringLiteral("made_by_the_test")).toBool()
                                       ? empty.path()
                                       : QStringLiteral(SPYGLASS_FIXTURES_DIR "/malformed/") +
                                             c.value(QStringLiteral("folder")).toString();
            window.setModelPath(folder);
            QSignalSpy failed(window.service(), &InferenceService::generationFailed);
            window.run();
            QVERIFY2(failed.wait(30000), qPrintable(folder));
            const QString expected = c.value(QStringLiteral("message")).toString();
            QVERIFY2(window.errorBanner()->message().contains(expected),
                     qPrintable(window.errorBanner()->message() + QStringLiteral(" — wanted: ") + expected));
        }
        window.setModelPath(QStringLiteral(SPYGLASS_FIXTURES_DIR "/gpt2-tiny-random"));
        QSignalSpy report(window.service(), &InferenceService::reportReady);
        window.run();
        QVERIFY(report.wait(30000));
    }

    void windowRunsAPrompt()
    {
        MainWindow window;
        window.setModelPath(QStringLiteral(SPYGLASS_FIXTURES_DIR "/gpt2-tiny-random"));
        window.setPrompt(QStringLiteral("1, 2, 3, 4,"));
        QSignalSpy report(window.service(), &InferenceService::reportReady);
        window.run();
        QVERIFY(report.wait(30000));
        QVERIFY(window.outputText().contains(QStringLiteral("1, 2, 3, 4,")));
    }

    void windowSamplesWithTheChosenSettings()
    {
        MainWindow window;
        window.setModelPath(QStringLiteral(SPYGLASS_FIXTURES_DIR "/gpt2-tiny-random"));
        window.setPrompt(QStringLiteral("1, 2, 3, 4,"));
        auto generated = [&](int seed) {
            AnalysisSettings settings = window.settings();
            settings.temperature = 1.5;
            settings.sampleTopK = 50;
            settings.seed = seed;
            window.applySettings(settings);
            QSignalSpy report(window.service(), &InferenceService::reportReady);
            window.run();
            if (!report.wait(30000)) return std::vector<int>{-1};
            const auto r = report.first().at(0).value<ReportPtr>();
            if (r->settingsJson.find("\"sample\"") == std::string::npos) return std::vector<int>{-2};
            std::vector<int> ids;
            for (const auto& t : r->tokens)
                if (t.generated) ids.push_back(t.id);
            return ids;
        };
        const auto a = generated(1);
        QCOMPARE(a.size(), size_t(8));
        QCOMPARE(generated(1), a);  // the seed fixes the draw
        QVERIFY(generated(2) != a || generated(3) != a);
        QCOMPARE(window.settings().temperature, 1.5);
    }

    void attentionViewShowsWhereTheSelectedTokenLooks()
    {
        MainWindow window;
        window.setModelPath(QStringLiteral(SPYGLASS_FIXTURES_DIR "/gpt2-tiny-random"));
        window.setPrompt(QStringLiteral("1, 2, 3, 4,"));
        AnalysisSettings settings = window.settings();
        settings.maxNewTokens = 2;
        window.applySettings(settings);
        QSignalSpy report(window.service(), &InferenceService::reportReady);
        window.run();
        QVERIFY(report.wait(30000));
        LanguagePage* page = window.languagePage();
        AttentionView* view = page->attentionView();
        QSignalSpy ready(window.service(), &InferenceService::attentionReady);
        page->showView(4);  // the Attention tab asks for the selected token (the first generated one)
        QVERIFY(ready.wait(30000));
        QCOMPARE(view->position(), 8);
        QCOMPARE(view->weights().shape, (std::vector<int64_t>{2, 4, 9}));
        view->setLayerAndHead(1, 2);
        const auto weights = view->shownWeights();
        QCOMPARE(weights.size(), size_t(9));
        double sum = 0;
        for (float w : weights) sum += w;
        QVERIFY(std::abs(sum - 1) < 1e-5);  // a softmax row
        QVERIFY(view->caption().contains(QStringLiteral("layer 1, head 2")));
        view->setLayerAndHead(0, -1);
        QVERIFY(view->caption().contains(QStringLiteral("mean of 4 heads")));
        // Another token: the newest selection is computed.
        QSignalSpy again(window.service(), &InferenceService::attentionReady);
        page->selection()->select(3);
        QVERIFY(again.wait(30000));
        QCOMPARE(view->position(), 3);
        QCOMPARE(view->shownWeights().size(), size_t(4));
        QTemporaryDir dir;
        QCOMPARE(window.exportCurrentView(dir.filePath(QStringLiteral("attention.csv"))), QString());
        QFile csv(dir.filePath(QStringLiteral("attention.csv")));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(csv.readAll()).count(QLatin1Char('\n')), 1 + 2 * 4 * 4);
        QCOMPARE(window.exportCurrentView(dir.filePath(QStringLiteral("attention.png"))), QString());
        if (!qEnvironmentVariableIsEmpty("SPYGLASS_SCREENSHOT_DIR"))
            view->grab().save(qEnvironmentVariable("SPYGLASS_SCREENSHOT_DIR") + QStringLiteral("/attention.png"));
    }

    void theSteeringSliderRerunsWithTheNewStrength()
    {
        QTemporaryDir dir;
        const QString vector = dir.filePath(QStringLiteral("v.safetensors"));
        spyglass::core::SafetensorsWriter writer;
        std::vector<float> values(64);
        for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 7) - 3.0F;
        writer.addFloat("vector", spyglass::core::HostTensor{{64}, values});
        writer.write(vector.toStdString());
        MainWindow window;
        window.setModelPath(QStringLiteral(SPYGLASS_FIXTURES_DIR "/gpt2-tiny-random"));
        window.setPrompt(QStringLiteral("1, 2, 3, 4,"));
        AnalysisSettings settings = window.settings();
        settings.maxNewTokens = 2;
        settings.steerFile = vector.toStdString();
        settings.steerLayer = 1;
        window.applySettings(settings);
        QVERIFY(AnalysisSettings::fromJson(window.settings().toJson()) == window.settings());
        QSignalSpy report(window.service(), &InferenceService::reportReady);
        window.run();  // α = 0: no steering
        QVERIFY(report.wait(30000));
        QVERIFY(report.first().at(0).value<ReportPtr>()->settingsJson.find("steer:") == std::string::npos);
        const int plain = report.first().at(0).value<ReportPtr>()->tokens.at(8).id;
        QSignalSpy steered(window.service(), &InferenceService::reportReady);
        window.languagePage()->settingsPanel()->setSteeringAlpha(20);  // the slider re-runs by itself
        QVERIFY(steered.wait(30000));
        const auto r = steered.first().at(0).value<ReportPtr>();
        const std::string spec = "steer:1:" + vector.toStdString() + ":20";
        QVERIFY2(r->settingsJson.find(spec) != std::string::npos, r->settingsJson.c_str());
        QVERIFY(r->tokens.at(8).id != plain);  // 20 · v in the residual changes the first token
        QCOMPARE(window.settings().steerAlpha, 20.0);
    }

    void interventionsInTheSettingsChangeTheRunAndAreRecorded()
    {
        MainWindow window;
        window.setModelPath(QStringLiteral(SPYGLASS_FIXTURES_DIR "/gpt2-tiny-random"));
        window.setPrompt(QStringLiteral("1, 2, 3, 4,"));
        AnalysisSettings settings = window.settings();
        settings.maxNewTokens = 2;
        settings.interventions = "head:0:1,2";
        window.applySettings(settings);
        QCOMPARE(window.settings().interventions, std::string("head:0:1,2"));
        QVERIFY(AnalysisSettings::fromJson(window.settings().toJson()) == window.settings());
        QSignalSpy report(window.service(), &InferenceService::reportReady);
        window.run();
        QVERIFY(report.wait(30000));
        const auto r = report.first().at(0).value<ReportPtr>();
        QVERIFY(r->settingsJson.find("\"interventions\":[\"head:0:1,2\"]") != std::string::npos);
        QCOMPARE(r->tokens.at(8).id, 7252);  // the ablated model's token (tests/fixtures/interventions)
        // The next run without them is the plain model again (the worker's cached model is restored).
        settings.interventions.clear();
        window.applySettings(settings);
        QSignalSpy plain(window.service(), &InferenceService::reportReady);
        window.run();
        QVERIFY(plain.wait(30000));
        QCOMPARE(plain.first().at(0).value<ReportPtr>()->tokens.at(8).id, 25804);
        // A spec that does not fit fails the run with the engine's message.
        settings.interventions = "head:0:9";
        window.applySettings(settings);
        QSignalSpy failed(window.service(), &InferenceService::generationFailed);
        window.run();
        QVERIFY(failed.wait(30000));
        QVERIFY(failed.first().at(0).toString().contains(QStringLiteral("head 9 out of range")));
    }

    void ablateAndRerunShowsWhatChangedAndTheListToggles()
    {
        // Token ids from tests/fixtures/interventions (the float64 reference on the same weights).
        MainWindow window;
        window.setModelPath(QStringLiteral(SPYGLASS_FIXTURES_DIR "/gpt2-tiny-random"));
        window.setPrompt(QStringLiteral("1, 2, 3, 4,"));
        AnalysisSettings settings = window.settings();
        settings.maxNewTokens = 6;
        settings.factorCount = 3;
        window.applySettings(settings);
        LanguagePage* page = window.languagePage();
        auto runAndWait = [&](const std::function<void()>& start) {
            QSignalSpy report(window.service(), &InferenceService::reportReady);
            start();
            if (!report.wait(60000)) return ReportPtr();
            QCoreApplication::processEvents();
            return report.first().at(0).value<ReportPtr>();
        };
        ReportPtr plain = runAndWait([&] { window.run(); });
        QVERIFY(plain);
        QVERIFY(!page->diffView()->diff());
        QVERIFY(page->diffView()->textsHtml().contains(QStringLiteral("no interventions")));

        // Right-click a head in the attention overview → "Ablate head 0:1 and rerun".
        QObject owner;
        const QList<QAction*> heads = page->attentionView()->ablationActions(0, 1, &owner);
        QVERIFY(!heads.isEmpty());
        QCOMPARE(heads.front()->text(), QStringLiteral("Ablate head 0:1 and rerun"));
        ReportPtr ablated = runAndWait([&] { heads.front()->trigger(); });
        QVERIFY(ablated);
        QVERIFY(ablated->settingsJson.find("\"interventions\":[\"head:0:1\"]") != std::string::npos);
        QTRY_VERIFY(page->diffView()->diff());
        const spyglass::core::RunDiff& d = *page->diffView()->diff();
        QCOMPARE(d.baseline.size(), size_t(6));
        QCOMPARE(d.baseline.front().id, 25804);  // the plain model's greedy tokens
        QCOMPARE(d.deltaLogProb.size(), size_t(6));
        QVERIFY(page->diffView()->textsHtml().contains(QStringLiteral("Baseline")));
        QVERIFY(page->diffView()->toCsv().contains(QStringLiteral("\nlogprob,0,")));
        auto entries = page->settingsPanel()->interventionList()->entries();
        QCOMPARE(entries.size(), size_t(1));
        QCOMPARE(entries.front().first, std::string("head:0:1"));
        QVERIFY(entries.front().second);

        // Switching it off re-runs the plain model (and remembers it, off).
        ReportPtr off = runAndWait([&] { page->settingsPanel()->interventionList()->setEnabled(0, false); });
        QVERIFY(off);
        QCOMPARE(off->tokens.at(8).id, 25804);
        QTRY_VERIFY(!page->diffView()->diff());
        QCOMPARE(window.settings().interventionsOff, std::string("head:0:1"));
        QVERIFY(AnalysisSettings::fromJson(window.settings().toJson()) == window.settings());

        // A lens cell: block 0's MLP output at position 5 (the reference's mlp:0@5 case).
        page->lensView()->setReport(off);
        const QList<QAction*> cell = page->lensView()->ablationActions(1, 5, &owner);  // row 1: block.0
        QCOMPARE(cell.size(), 2);
        QVERIFY(cell[1]->text().contains(QStringLiteral("MLP")));
        ReportPtr mlp = runAndWait([&] { cell[1]->trigger(); });
        QVERIFY(mlp);
        QTRY_VERIFY(page->diffView()->diff());
        QCOMPARE(page->diffView()->diff()->edited.front().id, 44921);
        QCOMPARE(page->diffView()->diff()->firstDivergence.value_or(-1), 0);
        QCOMPARE(window.settings().interventions, std::string("mlp:0@5"));

        // A factor of the report on screen: its loadings are saved and the spec names the file.
        page->settingsPanel()->interventionList()->setEntries({});
        ReportPtr base = runAndWait([&] { window.run(); });
        QVERIFY(base && base->factors);
        const QList<QAction*> factors = page->factorsView()->ablationActions(&owner);
        QCOMPARE(factors.size(), 3 + 1);  // every factor, then factor 0's top neurons
        ReportPtr factor = runAndWait([&] { factors.front()->trigger(); });
        QVERIFY(factor);
        QVERIFY2(factor->settingsJson.find("factor:0:") != std::string::npos, factor->settingsJson.c_str());
        QTRY_VERIFY(page->diffView()->diff());
        // Factor 0's strongest neurons: the 5 largest loadings of its strongest layer.
        QVERIFY(factors.back()->text().contains(QStringLiteral("neuron:")));
        page->factorsView()->setReport(base);
        const QList<QAction*> again = page->factorsView()->ablationActions(&owner);
        const QString text = again.back()->text();
        const QString spec = text.mid(text.indexOf(QStringLiteral("neuron:"))).section(QLatin1Char(')'), 0, 0);
        const auto& f = *base->factors;
        const int64_t neurons = f.loadings.shape[1] / static_cast<int64_t>(f.layers.size());
        const auto best = std::max_element(f.loadings.values.begin(), f.loadings.values.begin() + f.loadings.shape[1]) -
                          f.loadings.values.begin();
        QVERIFY2(
            spec.startsWith(
                QStringLiteral("neuron:%1:%2").arg(f.layers[static_cast<size_t>(best / neurons)]).arg(best % neurons)),
            qPrintable(spec));
        ReportPtr neuron = runAndWait([&] { again.back()->trigger(); });
        QVERIFY(neuron);
        QVERIFY2(neuron->settingsJson.find(spec.toStdString()) != std::string::npos, neuron->settingsJson.c_str());
    }

    void compareTabShowsTwoPromptsSideBySide()
    {
        MainWindow window;
        window.setModelPath(QStringLiteral(SPYGLASS_FIXTURES_DIR "/gpt2-tiny-random"));
        AnalysisSettings settings = window.settings();
        settings.maxNewTokens = 2;
        settings.factorCount = 3;
        window.applySettings(settings);
        ComparePage* page = window.comparePage();
        page->setPrompts(QStringLiteral("1, 2, 3, 4,"), QStringLiteral("1, 2, 7, 4,"));
        QSignalSpy ready(window.service(), &InferenceService::compareReady);
        page->runPage();
        QVERIFY(ready.wait(60000));
        QCoreApplication::processEvents();
        const ComparisonPtr c = page->view()->comparison();
        QVERIFY(c && c->factors);
        QCOMPARE(c->a.tokens.size(), size_t(10));  // 8 prompt tokens + 2, with the Language tab's settings
        QCOMPARE(page->view()->rowLabels().size(), 5 + 2 * 3);
        QCOMPARE(page->view()->toCsv().count(QLatin1Char('\n')), static_cast<qsizetype>(c->alignment.size()) + 1);
        QVERIFY(page->summary().contains(QStringLiteral("aligned columns differ")));
        // Hovering a column names both tokens; a differing column has a dash on one side.
        page->view()->resize(page->view()->sizeHint());
        int differing = -1;
        for (int i = 0; i < static_cast<int>(c->alignment.size()); ++i)
            if (c->alignment[static_cast<size_t>(i)].b < 0) differing = i;
        QVERIFY(differing >= 0);
        QVERIFY(page->view()->columnSummary(differing).contains(QStringLiteral("B: —")));
        QTemporaryDir dir;
        const QString png = dir.filePath(QStringLiteral("ab.png"));
        QCOMPARE(page->exportView(png, 96), QString());
        QVERIFY(QImage(png).width() >= page->view()->sizeHint().width());
        QCOMPARE(page->exportView(dir.filePath(QStringLiteral("ab.csv")), 96), QString());
    }
};

QTEST_MAIN(InferenceServiceTest)
#include "inference_service_test.moc"
