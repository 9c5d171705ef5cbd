#include "cli/intervention_options.h"

#include "spyglass/error.h"
#include "spyglass/intervention.h"
#include "spyglass/patching.h"
#include "spyglass/report_json.h"

#include <optional>

namespace spyglass::cli {

void addInterventionOptions(ArgParser& parser)
{
    parser.addOption("ablate", "SPEC",
                     "change activations (repeatable): neuron:L:N[,N…], head:L:H[,H…], attn:L or mlp:L (a block's "
                     "attention/MLP output) (zero; =V sets, *S scales; @P[,P…] only those positions), "
                     "factor:K[:REPORT][@P…] (a report with --save-loadings, or --factors-from)");
    parser.addOption("steer", "L:FILE:ALPHA",
                     "add ALPHA · vector to resid_pre.L at every position (repeatable; FILE: .safetensors with "
                     "'vector' [d_model]; @P[,P…] only those positions)");
    parser.addOption("factors-from", "REPORT", "report JSON whose factors factor:K refers to");
}

size_t applyInterventions(const ArgParser& parser, core::LanguageModel& model)
{
    std::vector<core::Intervention> all;
    std::optional<core::Report> factorReport;
    for (const std::string& spec : parser.values("ablate")) {
        core::Intervention in = core::parseIntervention(spec);
        if (in.target == core::Intervention::Target::Steer)
            throw UsageError("--ablate " + spec + ": steering goes with --steer L:FILE:ALPHA");
        if (in.target != core::Intervention::Target::Factor) {
            all.push_back(std::move(in));
            continue;
        }
        if (!in.source.empty()) {
            for (auto& one : core::resolveFactor(in, core::readFactorLoadings(in.source), model.info().mlpWidth))
                all.push_back(std::move(one));
            continue;
        }
        if (!parser.has("factors-from"))
            throw UsageError("--ablate " + spec +
                             ": factor:K needs --factors-from REPORT.json (a report with factors) or factor:K:FILE");
        if (!factorReport) factorReport = core::readReport(*parser.value("factors-from"));
        if (!factorReport->factors)
            throw UsageError("--factors-from " + *parser.value("factors-from") + ": the report has no factors section");
        in.source = *parser.value("factors-from");
        for (auto& one : core::resolveFactor(in, *factorReport->factors, model.info().mlpWidth))
            all.push_back(std::move(one));
    }
    for (const std::string& spec : parser.values("steer")) {
        core::Intervention in = core::parseIntervention("steer:" + spec);
        core::loadSteeringVector(in);
        all.push_back(std::move(in));
    }
    const size_t count = all.size();
    model.setInterventions(std::move(all));
    return count;
}

int singleToken(const core::LanguageModel& model, const std::string& text, const std::string& option)
{
    return core::tokenArgument(model, text, option);  // the field is the flag itself
}

}  // namespace spyglass::cli
