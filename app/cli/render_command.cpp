// `spyglass-cli render`: the app's views drawn headless from a report (offscreen Qt platform),
// through the same view and export code as the desktop app.
#include "cli/commands.h"
#include "cli/common_options.h"

#include "spyglass/error.h"
#include "spyglass/report_json.h"
#include "views/factors_view.h"
#include "views/figure_export.h"
#include "views/lens_view.h"
#include "views/projection_view.h"
#include "views/saliency_view.h"
#include "views/token_selection.h"

#include <QApplication>

#include <iostream>
#include <memory>

namespace spyglass::cli {

int runRender(const std::vector<std::string>& args)
{
    ArgParser parser("render", "report.json --view saliency|lens|factors|projection [--token N] --out F.png|svg|pdf");
    parser.addOption("view", "NAME", "saliency, lens, factors or projection");
    parser.addOption("token", "N", "selected token position (default: the first generated token)");
    parser.addOption("out", "FILE", "figure to write: .png, .svg or .pdf");
    parser.addOption("width", "PX", "figure width in pixels at 96 dpi (default 1200)");
    parser.addOption("height", "PX", "figure height (default 700)");
    parser.addOption("dpi", "N", "PNG/PDF resolution (default 150)");
    parser.addFlag("no-title", "leave out the title block (view, model, prompt, decoding)");
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout << parser.helpText()
                  << "\nDraws one view of a report written by `analyze`, exactly as the app shows it.\n";
        return 0;
    }
    if (parser.positionals().size() != 1) throw UsageError("'render' needs exactly one report.json");
    const std::string reportPath = parser.positionals().front();
    const std::string view = parser.required("view");
    const std::string out = parser.required("out");
    auto report = std::make_shared<const core::Report>(core::readReport(reportPath));

    qputenv("QT_QPA_PLATFORM", "offscreen");
    int argc = 1;
    char name[] = "spyglass-cli";
    char* argv[] = {name, nullptr};
    QApplication app(argc, argv);
    ui::TokenSelection selection;
    std::unique_ptr<QWidget> widget;
    if (view == "saliency") {
        auto v = std::make_unique<ui::SaliencyView>(&selection);
        v->setReport(report);
        widget = std::move(v);
    } else if (view == "lens") {
        auto v = std::make_unique<ui::LensView>(&selection);
        v->setReport(report);
        widget = std::move(v);
    } else if (view == "factors") {
        if (!report->factors) throw core::Error(reportPath + ": the report has no factors section");
        auto v = std::make_unique<ui::FactorsView>(&selection);
        v->setReport(report);
        widget = std::move(v);
    } else if (view == "projection") {
        if (!report->projection) throw core::Error(reportPath + ": the report has no projection section");
        auto v = std::make_unique<ui::ProjectionView>(&selection);
        v->setReport(report);
        widget = std::move(v);
    } else {
        throw UsageError("--view must be saliency, lens, factors or projection (got '" + view + "')");
    }
    int token = parser.intValue("token", -1);
    if (token < 0)
        for (size_t i = 0; i < report->tokens.size(); ++i)
            if (report->tokens[i].generated) {
                token = static_cast<int>(i);
                break;
            }
    if (token >= static_cast<int>(report->tokens.size()))
        throw UsageError("--token " + std::to_string(token) + " is past the report's " +
                         std::to_string(report->tokens.size()) + " tokens");
    selection.select(token);
    widget->resize(parser.intValue("width", 1200), parser.intValue("height", 700));
    widget->show();
    QApplication::processEvents();
    const ui::FigureCaption caption =
        parser.has("no-title") ? ui::FigureCaption{} : ui::figureCaption(*report, QString::fromStdString(view));
    const QString error =
        ui::exportFigure(widget.get(), QString::fromStdString(out), parser.intValue("dpi", 150), caption);
    if (!error.isEmpty()) throw core::Error(error.toStdString());
    logProgress("wrote " + out, true);
    return 0;
}

}  // namespace spyglass::cli
