// spyglass — the desktop app. `spyglass [MODEL_DIR] [--prompt T] [--run] [--session F]
// [--image-model DIR [--image-prompt T] [--word N] [--lab-base T --lab-append T [--lab-region x,y,w,h]]]
// [--patch-clean T --patch-corrupt T --patch-answer A --patch-wrong W [--patch-site S]]`,
// `--version`, `--help`.
#include "main_window.h"
#include "pages/compare_page.h"
#include "pages/image_view.h"
#include "pages/language_page.h"
#include "pages/patching_page.h"
#include "pages/prompt_lab_view.h"
#include "pages/region_canvas.h"
#include "worker/inference_service.h"

#include "spyglass/runtime.h"
#include "spyglass/version.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>

#include <cstdio>
#include <memory>
#include <string>

namespace {

// The embedded default model: $SPYGLASS_DEFAULT_MODEL, else installed beside the program
// (<prefix>/share/spyglass/models/spyglass-tiny), else the source tree's resources/ (a build
// that was not installed).
QString defaultModelPath()
{
    const QString fromEnvironment = qEnvironmentVariable("SPYGLASS_DEFAULT_MODEL");
    if (!fromEnvironment.isEmpty()) return fromEnvironment;
    const QStringList candidates{
        QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("../share/spyglass/models/spyglass-tiny")),
        QStringLiteral(SPYGLASS_SOURCE_MODELS_DIR "/spyglass-tiny")};
    for (const QString& candidate : candidates)
        if (QFileInfo::exists(candidate + QStringLiteral("/config.json"))) return QDir::cleanPath(candidate);
    return {};
}

// The shipped shape-scene image model, found the same way.
QString defaultImageModelPath()
{
    const QString fromEnvironment = qEnvironmentVariable("SPYGLASS_DEFAULT_IMAGE_MODEL");
    if (!fromEnvironment.isEmpty()) return fromEnvironment;
    const QStringList candidates{QDir(QCoreApplication::applicationDirPath())
                                     .filePath(QStringLiteral("../share/spyglass/models/spyglass-shapes")),
                                 QStringLiteral(SPYGLASS_SOURCE_MODELS_DIR "/spyglass-shapes")};
    for (const QString& candidate : candidates)
        if (QFileInfo::exists(candidate + QStringLiteral("/model_index.json"))) return QDir::cleanPath(candidate);
    return {};
}

}  // namespace

// QGuiApplication takes "-session"/"--session" for X11 session management, so our --session is
// taken out of argv before Qt sees it. --help and --version need no display.
QString takeSessionArgument(int& argc, char** argv)
{
    QString session;
    int out = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if ((arg == "--session" || arg == "-session") && i + 1 < argc) {
            session = QString::fromLocal8Bit(argv[++i]);
        } else if (arg.rfind("--session=", 0) == 0) {
            session = QString::fromLocal8Bit(argv[i] + 10);
        } else {
            if (arg == "--help" || arg == "-h" || arg == "--version" || arg == "-v")
                qputenv("QT_QPA_PLATFORM", "offscreen");
            argv[out++] = argv[i];
        }
    }
    argc = out;
    argv[argc] = nullptr;
    return session;
}

int main(int argc, char** argv)
{
    spyglass::core::reexecWithTunedBlas(argc, argv);
    const QString session = takeSessionArgument(argc, argv);
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("spyglass"));
    QApplication::setOrganizationName(QStringLiteral("spyglass"));
    QApplication::setApplicationVersion(QString::fromLatin1(spyglass::kVersion));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Spyglass — a desktop debugger for transformer models"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("model"),
                                 QStringLiteral("model folder to open (default: the embedded spyglass-tiny)"),
                                 QStringLiteral("[MODEL_DIR]"));
    const QCommandLineOption promptOption(QStringLiteral("prompt"), QStringLiteral("prompt to put in the editor"),
                                          QStringLiteral("T"));
    const QCommandLineOption runOption(QStringLiteral("run"), QStringLiteral("run the prompt right away"));
    // Listed for --help; the value was taken out of argv above.
    const QCommandLineOption sessionOption(QStringLiteral("session"),
                                           QStringLiteral("open a saved session (.spyglass)"), QStringLiteral("F"));
    const QCommandLineOption imageModelOption(
        QStringLiteral("image-model"),
        QStringLiteral("image model for the Image and Prompt lab tabs (default: the shipped spyglass-shapes)"),
        QStringLiteral("DIR"));
    const QCommandLineOption imagePromptOption(QStringLiteral("image-prompt"),
                                               QStringLiteral("prompt for the Image tab"), QStringLiteral("T"));
    const QCommandLineOption wordOption(
        QStringLiteral("word"), QStringLiteral("with --run: overlay this word's heatmap when the image is ready"),
        QStringLiteral("N"));
    const QCommandLineOption labBaseOption(
        QStringLiteral("lab-base"), QStringLiteral("open the Prompt lab with this base prompt"), QStringLiteral("T"));
    const QCommandLineOption labAppendOption(QStringLiteral("lab-append"),
                                             QStringLiteral("the Prompt lab's appended prompt"), QStringLiteral("T"));
    const QCommandLineOption labRegionOption(QStringLiteral("lab-region"),
                                             QStringLiteral("the Prompt lab's region x,y,w,h (image pixels)"),
                                             QStringLiteral("R"));
    const QCommandLineOption memoryLimitOption(
        QStringLiteral("memory-limit"),
        QStringLiteral("cap on host tensor memory in MiB; a run past it stops with 'out of memory' (default: none)"),
        QStringLiteral("MiB"));
    const QCommandLineOption patchCleanOption(QStringLiteral("patch-clean"),
                                              QStringLiteral("Patching tab: the clean prompt"), QStringLiteral("T"));
    const QCommandLineOption patchCorruptOption(
        QStringLiteral("patch-corrupt"), QStringLiteral("Patching tab: the corrupt prompt"), QStringLiteral("T"));
    const QCommandLineOption patchAnswerOption(QStringLiteral("patch-answer"),
                                               QStringLiteral("Patching tab: the answer token"), QStringLiteral("A"));
    const QCommandLineOption patchWrongOption(QStringLiteral("patch-wrong"),
                                              QStringLiteral("Patching tab: the wrong token"), QStringLiteral("W"));
    const QCommandLineOption patchSiteOption(QStringLiteral("patch-site"),
                                             QStringLiteral("Patching tab: resid_pre, attn_out, mlp_out or head"),
                                             QStringLiteral("S"));
    const QCommandLineOption ablateOption(
        QStringLiteral("ablate"),
        QStringLiteral("Language model tab: an intervention (repeatable; neuron:L:N, head:L:H, attn:L, mlp:L …); with "
                       "--run the Δ Interventions tab shows what it changed"),
        QStringLiteral("SPEC"));
    parser.addOption(ablateOption);
    const QCommandLineOption compareAOption(QStringLiteral("compare-a"),
                                            QStringLiteral("Compare A/B tab: prompt A (with --compare-b)"),
                                            QStringLiteral("T"));
    const QCommandLineOption compareBOption(QStringLiteral("compare-b"), QStringLiteral("Compare A/B tab: prompt B"),
                                            QStringLiteral("T"));
    parser.addOption(compareAOption);
    parser.addOption(compareBOption);
    const QCommandLineOption summaryOption(
        QStringLiteral("summary"),
        QStringLiteral("open a dataset summary: summary.json (spyglass-cli aggregate) or a batch folder of reports"),
        QStringLiteral("PATH"));
    parser.addOption(summaryOption);
    for (const auto* o :
         {&patchCleanOption, &patchCorruptOption, &patchAnswerOption, &patchWrongOption, &patchSiteOption})
        parser.addOption(*o);
    parser.addOption(memoryLimitOption);
    parser.addOption(labBaseOption);
    parser.addOption(labAppendOption);
    parser.addOption(labRegionOption);
    parser.addOption(imageModelOption);
    parser.addOption(imagePromptOption);
    parser.addOption(wordOption);
    parser.addOption(sessionOption);
    parser.addOption(promptOption);
    parser.addOption(runOption);
    parser.process(app);
    bool limitOk = true;
    const qulonglong limitMiB =
        parser.isSet(memoryLimitOption) ? parser.value(memoryLimitOption).toULongLong(&limitOk) : 0;
    if (!limitOk) {
        std::fprintf(stderr, "spyglass: --memory-limit expects a number of MiB, got '%s'\n",
                     qPrintable(parser.value(memoryLimitOption)));
        return 2;
    }
    // Installs the accounting allocator too, so an out-of-memory run ends in a clear banner.
    spyglass::core::setMemoryLimit(static_cast<uint64_t>(limitMiB) * 1024 * 1024);

    // SPYGLASS_CHECK_GUI_THREAD=1: count every libtorch operator the GUI thread enters and say so
    // on exit (it should be none: the inference thread and pool threads run torch).
    const bool checkGuiThread = qEnvironmentVariableIsSet("SPYGLASS_CHECK_GUI_THREAD");
    if (checkGuiThread) spyglass::core::forbidTorchOnThisThread();
    QObject::connect(&app, &QCoreApplication::aboutToQuit, [checkGuiThread] {
        if (!checkGuiThread) return;
        const auto calls = spyglass::core::forbiddenTorchCalls();
        std::fprintf(stderr, "spyglass: the GUI thread entered %lld libtorch operators%s%s\n",
                     static_cast<long long>(calls.count), calls.count ? ", first " : "", calls.firstOperator.c_str());
    });

    spyglass::ui::MainWindow window;
    window.setModelPath(parser.positionalArguments().isEmpty() ? defaultModelPath()
                                                               : parser.positionalArguments().constFirst());
    if (parser.isSet(promptOption)) window.setPrompt(parser.value(promptOption));
    window.setImageModelPath(defaultImageModelPath());
    if (!session.isEmpty()) window.openSession(session);
    const bool image = parser.isSet(imageModelOption) || parser.isSet(labBaseOption) || parser.isSet(imagePromptOption);
    if (image) {
        if (parser.isSet(imageModelOption)) window.setImageModelPath(parser.value(imageModelOption));
        if (parser.isSet(imagePromptOption)) window.imageView()->setPrompt(parser.value(imagePromptOption));
        window.tabs()->setCurrentWidget(window.imageView());
        if (parser.isSet(wordOption)) {
            const int word = parser.value(wordOption).toInt();
            QObject::connect(
                window.service(), &spyglass::ui::InferenceService::imageReady, &window,
                [&window, word] { window.imageView()->selectWord(word); }, Qt::QueuedConnection);
        }
    }
    const bool lab = image && parser.isSet(labBaseOption);
    if (lab) {
        window.labView()->setBase(parser.value(labBaseOption));
        window.labView()->setAppended(parser.value(labAppendOption));
        window.tabs()->setCurrentWidget(window.labView());
        const QStringList r = parser.value(labRegionOption).split(QLatin1Char(','));
        if (r.size() == 4) {
            // Applied once the first result has its image; the region change re-scores from the cache.
            const QRect region(r[0].toInt(), r[1].toInt(), r[2].toInt(), r[3].toInt());
            auto applied = std::make_shared<bool>(false);
            QObject::connect(
                window.service(), &spyglass::ui::InferenceService::labReady, &window,
                [&window, region, applied] {
                    if (*applied) return;
                    *applied = true;
                    window.labView()->canvas()->setRegion(region);
                },
                Qt::QueuedConnection);
        }
    }
    if (parser.isSet(ablateOption)) {
        spyglass::ui::AnalysisSettings settings = window.settings();
        settings.interventions = parser.values(ablateOption).join(QLatin1Char(' ')).toStdString();
        window.applySettings(settings);
        window.languagePage()->showView(5);  // Δ Interventions
    }
    const bool compare = parser.isSet(compareAOption);
    if (compare) {
        window.comparePage()->setPrompts(parser.value(compareAOption), parser.value(compareBOption));
        window.tabs()->setCurrentWidget(window.comparePage());
    }
    const bool patch = parser.isSet(patchCleanOption);
    if (patch) {
        spyglass::ui::PatchingPage* page = window.patchingPage();
        page->setModelPath(parser.positionalArguments().isEmpty() ? defaultModelPath()
                                                                  : parser.positionalArguments().constFirst());
        page->setPrompts(parser.value(patchCleanOption), parser.value(patchCorruptOption),
                         parser.value(patchAnswerOption), parser.value(patchWrongOption));
        if (parser.isSet(patchSiteOption)) {
            try {
                page->setSite(spyglass::core::parsePatchSite(parser.value(patchSiteOption).toStdString()));
            } catch (const std::exception& e) {
                std::fprintf(stderr, "spyglass: --patch-site: %s\n", e.what());
                return 2;
            }
        }
        window.tabs()->setCurrentWidget(page);
    }
    window.show();
    if (parser.isSet(summaryOption)) (void)window.openSummary(parser.value(summaryOption));  // errors: the banner
    if (parser.isSet(runOption)) {
        if (patch)
            window.patchingPage()->runPage();
        else if (compare)
            window.comparePage()->runPage();
        else if (lab)
            window.runLab(window.labView()->request());
        else if (image)
            window.runImage(window.imageView()->request());
        else
            window.run();
    }
    return QApplication::exec();
}
