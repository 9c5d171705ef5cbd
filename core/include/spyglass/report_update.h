#pragma once
// ReportUpdate — one stage of an analysis as the engine computes it: the run started (model,
// saliency sections, prompt tokens), a token was generated, a saliency row, a lens column, the
// factors, the 2-D map. The engine owns the partial report and grows it only through
// applyUpdate(); a front end that shows the run live applies the same updates to its own copy, so
// each stage costs what it adds (no copy of the whole report per token).
//
//   analyze(model, prompt, options, progress, [&](const ReportUpdate& u, const Report& partial) {
//       if (std::holds_alternative<SaliencyRowReady>(u)) paintRow(std::get<SaliencyRowReady>(u).row);
//   });
//   Report live;  applyUpdate(live, u);   // elsewhere: the same partial report, stage by stage
//
// The report returned at the end is the authority: it adds words, word scores and the full lens
// (with the last position) and replaces what the updates built.
// Thread safety: value types; applyUpdate() touches only its arguments.
#include "spyglass/report.h"

#include <cstddef>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace spyglass::core {

// First: the model, one empty saliency section per method, the prompt's tokens.
struct AnalysisStarted {
    ReportModel model;
    std::vector<SaliencySection> saliency;
    std::vector<ReportToken> promptTokens;
};

// A generated token (appended to tokens).
struct TokenGenerated {
    ReportToken token;
};

// A saliency row of section `section` (index into Report::saliency).
struct SaliencyRowReady {
    std::size_t section = 0;
    SaliencyRow row;
};

// The lens column at `position` (the position that predicted the token after it): one cell per
// layer, and the display text of the ids it mentions.
struct LensColumnReady {
    int position = 0;
    LensMode mode = LensMode::Normed;
    int topK = 10;
    std::vector<std::string> layers;
    std::vector<LensCell> cells;
    std::map<int, std::string> tokenTexts;
};

struct FactorsReady {
    FactorSection factors;
    std::map<int, std::string> tokenTexts;
};

struct ProjectionReady {
    ProjectionSection projection;
};

using ReportUpdate =
    std::variant<AnalysisStarted, TokenGenerated, SaliencyRowReady, LensColumnReady, FactorsReady, ProjectionReady>;

// Adds `update` to `report`; throws Error when it does not fit (a row of a section or a column
// of a position the report does not have).
void applyUpdate(Report& report, const ReportUpdate& update);

// "tokens", "saliency row", "lens column", … (for progress and messages).
[[nodiscard]] const char* updateStageName(const ReportUpdate& update);

}  // namespace spyglass::core
