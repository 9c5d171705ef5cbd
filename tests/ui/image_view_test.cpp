// The Image tab on the tiny reference pipeline: a run through the window's worker thread shows
// previews then the image and the prompt's words; a clicked word overlays its heatmap; opacity,
// threshold, layer and step filters change what is shown; the grid holds every word; export
// writes image, overlays and maps; a broken folder shows the banner (#6).
#include "pages/image_view.h"
#include "gui_thread_check.h"
#include "main_window.h"
#include "pages/lora_list.h"
#include "spyglass/generation_parameters.h"
#include "spyglass/heatmap_overlay.h"
#include "views/error_banner.h"
#include "worker/inference_service.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace spyglass::ui;

class ImageViewTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        SPYGLASS_FORBID_TORCH_ON_GUI_THREAD();
        m_window = new MainWindow;
        m_window->resize(1200, 800);
        m_window->show();
        m_window->tabs()->setCurrentWidget(m_window->imageView());
        ImageView* view = m_window->imageView();
        view->setModelPath(QStringLiteral(SPYGLASS_FIXTURES_DIR "/sd-tiny-random"));
        view->setPrompt(QStringLiteral("a photo of a hand, masterpiece, best quality, detailed fingers"));
        DiffusionRequest request = view->request();
        request.options.steps = 4;
        request.options.scheduler = "euler";
        request.options.previewEvery = 1;
        QSignalSpy previews(m_window->service(), &InferenceService::imagePreviewReady);
        QSignalSpy ready(m_window->service(), &InferenceService::imageReady);
        QMetaObject::invokeMethod(m_window, [&] { emit view->runRequested(request); });
        QVERIFY(ready.wait(60000));
        QCOMPARE(previews.count(), 3);
    }
    void cleanupTestCase()
    {
        delete m_window;
        SPYGLASS_VERIFY_NO_TORCH_ON_GUI_THREAD();  // the filtered maps ran on a pool thread
    }

    void showsTheWordsAndOverlaysTheClickedOne()
    {
        ImageView* view = m_window->imageView();
        QCOMPARE(view->words(), (QStringList{"a", "photo", "of", "hand", ",", "masterpiece", "best", "quality",
                                             "detailed", "fingers"}));
        const QImage plain = view->shownImage();
        QCOMPARE(plain.size(), QSize(64, 64));
        view->selectWord(3);
        const QImage hand = view->shownImage();
        QVERIFY(hand != plain);
        view->setOpacity(0.0);
        QCOMPARE(view->shownImage().convertToFormat(QImage::Format_RGB888),
                 plain.convertToFormat(QImage::Format_RGB888));
        view->setOpacity(0.8);
        const QImage strong = view->shownImage();
        view->setThreshold(0.999);  // only the hottest pixels keep colour
        int unchanged = 0;
        const QImage masked = view->shownImage();
        for (int y = 0; y < 64; ++y)
            for (int x = 0; x < 64; ++x) unchanged += masked.pixel(x, y) == plain.pixel(x, y) ? 1 : 0;
        QVERIFY(unchanged > 64 * 64 * 9 / 10);
        view->setThreshold(std::nullopt);
        QCOMPARE(view->shownImage(), strong);
    }

    void filtersByLayerAndStep()
    {
        ImageView* view = m_window->imageView();
        view->selectWord(3);
        QCOMPARE(view->layerFilterCount(), 1 + 2 + 2 + 10);  // all, up/down, two resolutions, each layer
        const QImage all = view->shownImage();
        view->setLayerFilter(5);  // one resolution only: computed away from the GUI thread
        QTRY_VERIFY(!view->mapsPending());
        QVERIFY(view->shownImage() != all);
        view->setLayerFilter(0);
        QVERIFY(!view->mapsPending());  // DAAM's own maps need no computing
        QCOMPARE(view->shownImage(), all);
        view->setStep(0);  // the first UNet call only
        view->setStep(1);  // the newest filter wins; the first result is dropped
        QTRY_VERIFY(!view->mapsPending());
        const QImage second = view->shownImage();
        QVERIFY(second != all);
        view->setStep(-1);
        QCOMPARE(view->shownImage(), all);
    }

    void gridAndExport()
    {
        ImageView* view = m_window->imageView();
        view->setGridShown(true);
        QCOMPARE(view->gridCellCount(), 10);
        view->setGridShown(false);
        QTemporaryDir dir;
        QCOMPARE(view->exportTo(dir.filePath(QStringLiteral("out"))), QString());
        for (const char* name : {"image.png", "overlay-00.png", "overlay-09.png", "word_maps.csv", "index.json"})
            QVERIFY2(QFile::exists(dir.filePath(QStringLiteral("out/") + QLatin1String(name))), name);
        QFile csv(dir.filePath(QStringLiteral("out/word_maps.csv")));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        QCOMPARE(csv.readAll().count('\n'), 1 + 10 * 32 * 32);
        // The exported image carries the run's A1111 parameters.
        QFile png(dir.filePath(QStringLiteral("out/image.png")));
        QVERIFY(png.open(QIODevice::ReadOnly));
        const auto text = spyglass::core::readPngText(png.readAll().toStdString(), "parameters", "image.png");
        QVERIFY(text.has_value());
        QVERIFY2(text->find("a photo of a hand, masterpiece, best quality, detailed fingers\nSteps: 4, Sampler: Euler, "
                            "CFG scale: 7.5, Seed: 0, Size: 64x64, Model: sd-tiny-random, RNG: CPU") == 0,
                 text->c_str());
        QCOMPARE(m_window->exportCurrentView(dir.filePath(QStringLiteral("shown.png"))), QString());
        QCOMPARE(QImage(dir.filePath(QStringLiteral("shown.png"))).size(), QSize(64, 64));
    }

    void settingsFromAnA1111PngAndLorasInTheRequest()
    {
        ImageView* view = m_window->imageView();
        const DiffusionRequest before = view->request();
        QTemporaryDir dir;
        const QString png = dir.filePath(QStringLiteral("a1111.png"));
        spyglass::core::writeRgbPng(std::vector<uint8_t>(8 * 8 * 3, 120), 8, 8, png.toStdString(),
                                    "a red fox\nNegative prompt: blurry\nSteps: 7, Sampler: DPM++ 2M, Schedule type: "
                                    "Karras, CFG scale: 4.5, Seed: 1234, Size: 64x96, Hires upscale: 2");
        QVERIFY(view->applyParametersFrom(png));
        const DiffusionRequest r = view->request();
        QCOMPARE(r.options.prompt, std::string("a red fox"));
        QCOMPARE(r.options.negativePrompt, std::string("blurry"));
        QCOMPARE(r.options.steps, 7);
        QCOMPARE(r.options.guidance, 4.5);
        QCOMPARE(r.options.seed, 1234U);
        QCOMPARE(r.options.width, 64);
        QCOMPARE(r.options.height, 96);
        QCOMPARE(r.options.scheduler, std::string("dpmpp_2m_karras"));
        QVERIFY(r.load.loras.empty());
        const QString lora = QStringLiteral(SPYGLASS_FIXTURES_DIR "/sd-lora/sd-tiny-random-lora-kohya.safetensors");
        view->loraList()->addLora(lora, 0.5);
        view->loraList()->addLora(lora, 0.75);  // the same file: its strength changes
        QCOMPARE(view->request().load.loras.size(), size_t(1));
        QCOMPARE(view->request().load.loras[0].strength, 0.75);
        view->loraList()->clear();
        // A PNG without parameters is said, nothing changes.
        const QString plain = dir.filePath(QStringLiteral("plain.png"));
        spyglass::core::writeRgbPng(std::vector<uint8_t>(8 * 8 * 3, 120), 8, 8, plain.toStdString());
        QVERIFY(!view->applyParametersFrom(plain));
        QCOMPARE(view->request().options.prompt, std::string("a red fox"));
        view->setPrompt(QString::fromStdString(before.options.prompt));
    }

    void brokenFolderShowsTheBanner()
    {
        QTemporaryDir dir;
        QDir().mkpath(dir.filePath(QStringLiteral("sd")));
        ImageView* view = m_window->imageView();
        DiffusionRequest request = view->request();
        request.modelPath = dir.filePath(QStringLiteral("sd"));
        QSignalSpy failed(m_window->service(), &InferenceService::generationFailed);
        QMetaObject::invokeMethod(m_window, [&] { emit view->runRequested(request); });
        QVERIFY(failed.wait(30000));
        QVERIFY(m_window->errorBanner()->message().contains(QStringLiteral("the folder is empty")));
        QVERIFY(view->result());  // the last image stays
    }

private:
    MainWindow* m_window = nullptr;
};

QTEST_MAIN(ImageViewTest)
#include "image_view_test.moc"
