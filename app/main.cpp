// spyglass — the desktop app. `spyglass [MODEL_DIR] [--prompt T]`, `--version`, `--help`.
#include "main_window.h"

#include "spyglass/runtime.h"
#include "spyglass/version.h"

#include <QApplication>
#include <QCommandLineParser>

int main(int argc, char** argv)
{
    spyglass::core::reexecWithTunedBlas(argc, argv);
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("spyglass"));
    QApplication::setApplicationVersion(QString::fromLatin1(spyglass::kVersion));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Spyglass — a desktop debugger for transformer models"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("model"), QStringLiteral("model folder to open"), QStringLiteral("[MODEL_DIR]"));
    const QCommandLineOption promptOption(QStringLiteral("prompt"), QStringLiteral("prompt to put in the editor"), QStringLiteral("T"));
    const QCommandLineOption runOption(QStringLiteral("run"), QStringLiteral("run the prompt right away"));
    parser.addOption(promptOption);
    parser.addOption(runOption);
    parser.process(app);

    spyglass::ui::MainWindow window;
    if (!parser.positionalArguments().isEmpty()) window.setModelPath(parser.positionalArguments().constFirst());
    if (parser.isSet(promptOption)) window.setPrompt(parser.value(promptOption));
    window.show();
    if (parser.isSet(runOption)) window.run();
    return QApplication::exec();
}
