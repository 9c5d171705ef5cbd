// GUI responsiveness while the model runs: drives a full analysis in the real MainWindow
// (offscreen) and records the longest gap between ticks of a 1 ms timer on the GUI thread.
// Usage: spyglass_gui_latency_bench [MODEL_DIR] [PROMPT]   (default: the fixture GPT-2)
#include "main_window.h"
#include "views/attention_view.h"
#include "views/token_selection.h"
#include "worker/inference_service.h"

#include "spyglass/runtime.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTimer>

#include <algorithm>
#include <iostream>

int main(int argc, char** argv)
{
    spyglass::core::reexecWithTunedBlas(argc, argv);
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QStandardPaths::setTestModeEnabled(true);
    QApplication app(argc, argv);
    const QString model =
        argc > 1 ? QString::fromLocal8Bit(argv[1]) : QStringLiteral(SPYGLASS_FIXTURES_DIR "/gpt2-tiny-random");
    const QString prompt = argc > 2 ? QString::fromLocal8Bit(argv[2]) : QStringLiteral("1, 2, 3, 4, 5, 6, 7,");
    spyglass::ui::MainWindow window;
    window.resize(1280, 860);
    window.show();
    window.setModelPath(model);
    window.setPrompt(prompt);

    for (int run = 0; run < 2; ++run) {  // the first run also loads the model
        QElapsedTimer clock, total;
        qint64 worst = 0, last = 0;
        int ticks = 0;
        QTimer timer;
        timer.setInterval(1);
        QObject::connect(&timer, &QTimer::timeout, [&] {
            const qint64 now = clock.nsecsElapsed();
            worst = std::max(worst, now - last);
            last = now;
            ++ticks;
        });
        // The first saliency row reaching the views (the page handles the update before this
        // connection, made later, runs).
        qint64 firstRow = -1;
        const auto firstRowWatch =
            QObject::connect(window.service(), &spyglass::ui::InferenceService::reportUpdated, &window,
                             [&](const spyglass::core::ReportUpdate& update) {
                                 if (firstRow < 0 && std::holds_alternative<spyglass::core::SaliencyRowReady>(update))
                                     firstRow = total.elapsed();
                             });
        QSignalSpy done(window.service(), &spyglass::ui::InferenceService::reportReady);
        clock.start();
        total.start();
        timer.start();
        window.run();
        if (!done.wait(600000)) {
            std::cerr << "the analysis did not finish\n";
            return 1;
        }
        QApplication::processEvents();  // the views fill in
        timer.stop();
        QObject::disconnect(firstRowWatch);
        std::cout << (run == 0 ? "first run (loads the model)" : "second run (model cached)") << ": first saliency row "
                  << firstRow << " ms after Run, analysis " << total.elapsed() << " ms, " << ticks
                  << " event-loop ticks, longest gap " << worst / 1e6 << " ms\n";
    }
    // The Attention view at a 1,000-token context: the time to show a new token's row (the
    // worker's part is BM_AttentionRow in spyglass_engine_bench) and to paint the view.
    {
        constexpr int kTokens = 1000, kLayers = 12, kHeads = 12;
        auto report = std::make_shared<spyglass::core::Report>();
        report->model.layerCount = kLayers;
        report->model.headCount = kHeads;
        for (int i = 0; i < kTokens; ++i) report->tokens.push_back({i, " w" + std::to_string(i % 97), {}, i > 990});
        spyglass::ui::TokenSelection selection;
        spyglass::ui::AttentionView view(&selection);
        view.resize(1200, 700);
        view.show();
        view.setReport(report);
        spyglass::core::HostTensor weights{{kLayers, kHeads, kTokens}, {}};
        weights.values.resize(static_cast<size_t>(kLayers * kHeads * kTokens));
        for (size_t i = 0; i < weights.values.size(); ++i)
            weights.values[i] = static_cast<float>((i * 7919) % 1000) / 1e6F;
        qint64 worst = 0;
        for (int rep = 0; rep < 5; ++rep) {
            QElapsedTimer t;
            t.start();
            view.setAttention(kTokens - 1, weights);
            (void)view.grab();  // lay out and paint everything
            worst = std::max(worst, t.nsecsElapsed());
        }
        std::cout << "attention view, " << kTokens << "-token context, " << kLayers << "×" << kHeads
                  << " heads: new row shown and painted in at most " << worst / 1e6 << " ms (5 tries)\n";
    }
    return 0;
}
