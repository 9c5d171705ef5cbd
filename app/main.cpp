// spyglass — the desktop app. `spyglass [MODEL_DIR] [--prompt T]`, `--version`, `--help`.
#include "main_window.h"

#include "spyglass/runtime.h"
#include "spyglass/version.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>

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

}  // namespace

int main(int argc, char** argv)
{
    spyglass::core::reexecWithTunedBlas(argc, argv);
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("spyglass"));
    QApplication::setOrganizationName(QStringLiteral("spyglass"));
    QApplication::setApplicationVersion(QString::fromLatin1(spyglass::kVersion));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Spyglass — a desktop debugger for transformer models"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("model"), QStringLiteral("model folder to open (default: the embedded spyglass-tiny)"),
                                 QStringLiteral("[MODEL_DIR]"));
    const QCommandLineOption promptOption(QStringLiteral("prompt"), QStringLiteral("prompt to put in the editor"), QStringLiteral("T"));
    const QCommandLineOption runOption(QStringLiteral("run"), QStringLiteral("run the prompt right away"));
    const QCommandLineOption sessionOption(QStringLiteral("session"), QStringLiteral("open a saved session (.spyglass)"), QStringLiteral("F"));
    parser.addOption(sessionOption);
    parser.addOption(promptOption);
    parser.addOption(runOption);
    parser.process(app);

    spyglass::ui::MainWindow window;
    window.setModelPath(parser.positionalArguments().isEmpty() ? defaultModelPath() : parser.positionalArguments().constFirst());
    if (parser.isSet(promptOption)) window.setPrompt(parser.value(promptOption));
    if (parser.isSet(sessionOption)) window.openSession(parser.value(sessionOption));
    window.show();
    if (parser.isSet(runOption)) window.run();
    return QApplication::exec();
}
