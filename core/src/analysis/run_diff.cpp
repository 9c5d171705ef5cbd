#include "spyglass/run_diff.h"

#include "spyglass/error.h"
#include "spyglass/intervention.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

namespace spyglass::core {

namespace {

using json = nlohmann::json;

std::vector<ReportToken> generatedTokens(const Report& r)
{
    std::vector<ReportToken> out;
    for (const auto& t : r.tokens)
        if (t.generated) out.push_back(t);
    return out;
}

std::vector<ReportToken> promptTokens(const Report& r)
{
    std::vector<ReportToken> out;
    for (const auto& t : r.tokens)
        if (!t.generated) out.push_back(t);
    return out;
}

bool sameIds(const std::vector<ReportToken>& a, const std::vector<ReportToken>& b)
{
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].id != b[i].id) return false;
    return true;
}

json tokensJson(const std::vector<ReportToken>& tokens)
{
    json out = json::array();
    for (const auto& t : tokens) {
        json one = {{"id", t.id}, {"text", t.text ? json(*t.text) : json(nullptr)}};
        if (t.logProb) one["logprob"] = *t.logProb;
        out.push_back(std::move(one));
    }
    return out;
}

json floatOrNull(float v)
{
    return std::isfinite(v) ? json(v) : json(nullptr);
}

}  // namespace

std::string generatedText(const std::vector<ReportToken>& tokens)
{
    std::string out;
    for (const auto& t : tokens) out += t.text ? *t.text : "·#" + std::to_string(t.id);
    return out;
}

RunDiff diffRuns(const Report& baseline, const Report& edited, const Report& forced)
{
    RunDiff d;
    d.interventions = recordedInterventions(edited);
    d.prompt = promptTokens(baseline);
    if (!sameIds(d.prompt, promptTokens(edited)) || !sameIds(d.prompt, promptTokens(forced)))
        throw Error("the runs to compare have different prompts");
    d.baseline = generatedTokens(baseline);
    d.edited = generatedTokens(edited);
    if (!sameIds(d.baseline, generatedTokens(forced)))
        throw Error("the forced run did not follow the baseline's tokens");
    for (size_t i = 0; i < std::max(d.baseline.size(), d.edited.size()); ++i)
        if (i >= d.baseline.size() || i >= d.edited.size() || d.baseline[i].id != d.edited[i].id) {
            d.firstDivergence = static_cast<int>(i);
            break;
        }

    const size_t promptLength = d.prompt.size();
    for (size_t i = 0; i < d.baseline.size(); ++i) {
        const auto& a = baseline.tokens[promptLength + i].logProb;
        const auto& b = forced.tokens[promptLength + i].logProb;
        if (!a || !b) throw Error("the runs to compare carry no token log-probabilities");
        d.baselineLogProb.push_back(*a);
        d.editedLogProb.push_back(*b);
        d.deltaLogProb.push_back(*b - *a);
    }

    for (const auto& sb : baseline.saliency)
        for (const auto& sf : forced.saliency) {
            if (sf.method != sb.method || sf.target != sb.target || sf.rows.size() != sb.rows.size()) continue;
            SaliencyDelta delta;
            delta.method = sb.method;
            for (size_t r = 0; r < sb.rows.size(); ++r) {
                const auto& rb = sb.rows[r];
                const auto& rf = sf.rows[r];
                if (rb.position != rf.position || rb.scores.size() != rf.scores.size())
                    throw Error("the runs' saliency rows do not line up");
                std::vector<float> row(rb.scores.size());
                for (size_t p = 0; p < row.size(); ++p) row[p] = rf.scores[p] - rb.scores[p];
                delta.positions.push_back(rb.position);
                delta.delta.push_back(std::move(row));
            }
            d.saliency.push_back(std::move(delta));
            break;
        }

    if (baseline.lens && forced.lens && baseline.lens->layers == forced.lens->layers &&
        baseline.lens->cells.size() == forced.lens->cells.size()) {
        d.lensLayers = baseline.lens->layers;
        const auto& cb = baseline.lens->cells;
        const auto& cf = forced.lens->cells;
        for (size_t l = 0; l < cb.size(); ++l) {
            if (cb[l].size() != cf[l].size()) throw Error("the runs' lens tables do not line up");
            std::vector<float> prob;
            std::vector<int> rankB, rankF;
            for (size_t p = 0; p < cb[l].size(); ++p) {
                const auto& b = cb[l][p];
                const auto& f = cf[l][p];
                prob.push_back(b.nextProb && f.nextProb ? *f.nextProb - *b.nextProb
                                                        : std::numeric_limits<float>::quiet_NaN());
                rankB.push_back(b.nextRank.value_or(0));
                rankF.push_back(f.nextRank.value_or(0));
            }
            d.lensDeltaProb.push_back(std::move(prob));
            d.lensBaselineRank.push_back(std::move(rankB));
            d.lensEditedRank.push_back(std::move(rankF));
        }
    }
    return d;
}

std::string runDiffJson(const RunDiff& d)
{
    json j;
    j["schema"] = "spyglass.diff/1";
    j["interventions"] = d.interventions;
    j["prompt"] = tokensJson(d.prompt);
    j["baseline"] = {{"text", generatedText(d.baseline)}, {"tokens", tokensJson(d.baseline)}};
    j["edited"] = {{"text", generatedText(d.edited)}, {"tokens", tokensJson(d.edited)}};
    j["first_divergence"] = d.firstDivergence ? json(*d.firstDivergence) : json(nullptr);
    j["delta_logprob"] = {{"baseline", d.baselineLogProb}, {"edited", d.editedLogProb}, {"delta", d.deltaLogProb}};
    j["saliency"] = json::array();
    for (const auto& s : d.saliency) {
        json rows = json::array();
        for (size_t r = 0; r < s.positions.size(); ++r)
            rows.push_back({{"position", s.positions[r]}, {"delta", s.delta[r]}});
        j["saliency"].push_back({{"method", name(s.method)}, {"rows", std::move(rows)}});
    }
    if (!d.lensLayers.empty()) {
        json prob = json::array();
        for (const auto& layer : d.lensDeltaProb) {
            json row = json::array();
            for (float v : layer) row.push_back(floatOrNull(v));
            prob.push_back(std::move(row));
        }
        j["lens"] = {{"layers", d.lensLayers},
                     {"delta_next_prob", std::move(prob)},
                     {"baseline_next_rank", d.lensBaselineRank},
                     {"edited_next_rank", d.lensEditedRank}};
    }
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace spyglass::core
