#include "spyglass/report_update.h"

#include "report/overloaded.h"
#include "spyglass/error.h"

namespace spyglass::core {

namespace {

void addTexts(Report& report, const std::map<int, std::string>& texts)
{
    for (const auto& [id, text] : texts) report.tokenTexts.try_emplace(id, text);
}

void addToken(Report& report, const ReportToken& token)
{
    report.tokens.push_back(token);
    report.tokenTexts.try_emplace(token.id, token.text.value_or("#" + std::to_string(token.id)));
}

}  // namespace

void applyUpdate(Report& report, const ReportUpdate& update)
{
    std::visit(Overloaded{
                   [&](const AnalysisStarted& u) {
                       report = Report{};
                       report.model = u.model;
                       report.saliency = u.saliency;
                       for (const ReportToken& t : u.promptTokens) addToken(report, t);
                   },
                   [&](const TokenGenerated& u) { addToken(report, u.token); },
                   [&](const SaliencyRowReady& u) {
                       if (u.section >= report.saliency.size())
                           throw Error("saliency row for section " + std::to_string(u.section) + " of a report with " +
                                       std::to_string(report.saliency.size()));
                       report.saliency[u.section].rows.push_back(u.row);
                   },
                   [&](const LensColumnReady& u) {
                       if (u.position < 0 || static_cast<std::size_t>(u.position) >= report.tokens.size())
                           throw Error("lens column for position " + std::to_string(u.position) + " of a report with " +
                                       std::to_string(report.tokens.size()) + " tokens");
                       if (!report.lens) report.lens = LensSection{u.mode, u.layers, u.topK, {}, 0.0};
                       LensSection& lens = *report.lens;
                       lens.cells.resize(u.cells.size());
                       for (std::size_t l = 0; l < u.cells.size(); ++l) {
                           if (lens.cells[l].size() < report.tokens.size()) lens.cells[l].resize(report.tokens.size());
                           lens.cells[l][static_cast<std::size_t>(u.position)] = u.cells[l];
                       }
                       addTexts(report, u.tokenTexts);
                   },
                   [&](const FactorsReady& u) {
                       report.factors = u.factors;
                       addTexts(report, u.tokenTexts);
                   },
                   [&](const ProjectionReady& u) { report.projection = u.projection; },
               },
               update);
}

const char* updateStageName(const ReportUpdate& update)
{
    static constexpr const char* kNames[] = {"tokens", "token", "saliency row", "lens column", "factors", "projection"};
    return kNames[update.index()];
}

}  // namespace spyglass::core
