#include "spyglass/prompt_comparison.h"

#include "report/factors_json.h"
#include "spyglass/error.h"
#include "spyglass/report_json.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace spyglass::core {

namespace {

using json = nlohmann::json;

json intOrNull(int v)
{
    return v >= 0 ? json(v) : json(nullptr);
}

}  // namespace

std::vector<TokenPair> alignTokens(const std::vector<std::string>& a, const std::vector<std::string>& b)
{
    const size_t n = a.size(), m = b.size();
    constexpr size_t kMaxCells = 25'000'000;
    if (n > 0 && m > kMaxCells / n)
        throw Error("aligning " + std::to_string(n) + " with " + std::to_string(m) +
                    " tokens is too large (more than 25 million cells)");
    // lcs[i][j]: the LCS length of a[i…] and b[j…].
    std::vector<int> lcs((n + 1) * (m + 1), 0);
    auto at = [&](size_t i, size_t j) -> int& { return lcs[i * (m + 1) + j]; };
    for (size_t i = n; i-- > 0;)
        for (size_t j = m; j-- > 0;)
            at(i, j) = a[i] == b[j] ? at(i + 1, j + 1) + 1 : std::max(at(i + 1, j), at(i, j + 1));
    std::vector<TokenPair> out;
    size_t i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && a[i] == b[j] && at(i, j) == at(i + 1, j + 1) + 1) {
            out.push_back({static_cast<int>(i++), static_cast<int>(j++)});
        } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
            out.push_back({static_cast<int>(i++), -1});
        } else {
            out.push_back({-1, static_cast<int>(j++)});
        }
    }
    return out;
}

std::vector<std::string> tokenTexts(const Report& report)
{
    std::vector<std::string> out;
    for (const auto& t : report.tokens) out.push_back(t.text ? *t.text : "#" + std::to_string(t.id));
    return out;
}

std::vector<float> saliencyReceived(const Report& report)
{
    std::vector<float> sum(report.tokens.size(), 0.0F);
    std::vector<int> count(report.tokens.size(), 0);
    if (!report.saliency.empty())
        for (const auto& row : report.saliency.front().rows)
            for (size_t p = 0; p < row.scores.size() && p < sum.size(); ++p) {
                sum[p] += row.scores[p];
                ++count[p];
            }
    for (size_t p = 0; p < sum.size(); ++p)
        if (count[p] > 0) sum[p] /= static_cast<float>(count[p]);
    return sum;
}

std::vector<int> firstTopLayer(const Report& report)
{
    std::vector<int> out(report.tokens.size(), -1);
    if (!report.lens) return out;
    const auto& cells = report.lens->cells;
    for (size_t p = 0; p < out.size(); ++p)
        for (size_t l = 0; l < cells.size(); ++l)
            if (p < cells[l].size() && cells[l][p].nextRank == 1) {
                out[p] = static_cast<int>(l);
                break;
            }
    return out;
}

std::vector<std::vector<float>> sideStrengths(const PromptComparison& c, bool sideB)
{
    std::vector<std::vector<float>> out;
    if (!c.factors) return out;
    const size_t begin = sideB ? c.a.tokens.size() : 0;
    const size_t end = sideB ? c.a.tokens.size() + c.b.tokens.size() : c.a.tokens.size();
    for (const auto& row : c.factors->strengths) {
        if (row.size() < end) throw Error("the joint factors do not cover both prompts");
        out.emplace_back(row.begin() + static_cast<std::ptrdiff_t>(begin),
                         row.begin() + static_cast<std::ptrdiff_t>(end));
    }
    return out;
}

std::string promptComparisonJson(const PromptComparison& c)
{
    auto side = [](const Report& r) {
        json tokens = json::array();
        for (const auto& t : r.tokens)
            tokens.push_back(
                {{"id", t.id}, {"text", t.text ? json(*t.text) : json(nullptr)}, {"generated", t.generated}});
        const json settings = json::parse(r.settingsJson, nullptr, false);
        return json{{"prompt", settings.is_object() ? settings.value("prompt", json(nullptr)) : json(nullptr)},
                    {"tokens", std::move(tokens)},
                    {"saliency_received", saliencyReceived(r)},
                    {"first_top1_layer", firstTopLayer(r)}};
    };
    json j;
    j["schema"] = "spyglass.ab/1";
    j["a"] = side(c.a);
    j["b"] = side(c.b);
    const json settings = json::parse(c.a.settingsJson, nullptr, false);
    if (settings.is_object()) {
        json shared = settings;
        shared.erase("prompt");
        j["settings"] = std::move(shared);
    }
    j["lens_layers"] = c.a.lens ? json(c.a.lens->layers) : json::array();
    const auto received = std::make_pair(saliencyReceived(c.a), saliencyReceived(c.b));
    json columns = json::array();
    for (const TokenPair& pair : c.alignment) {
        json col = {{"a", intOrNull(pair.a)}, {"b", intOrNull(pair.b)}};
        if (pair.a >= 0 && pair.b >= 0)
            col["saliency_delta"] =
                received.second[static_cast<size_t>(pair.b)] - received.first[static_cast<size_t>(pair.a)];
        columns.push_back(std::move(col));
    }
    j["alignment"] = std::move(columns);
    if (c.factors)
        j["factors"] = {{"k", c.factors->k},
                        {"layers", c.factors->layers},
                        {"strengths_a", sideStrengths(c, false)},
                        {"strengths_b", sideStrengths(c, true)},
                        {"reconstruction_error", c.factors->reconstructionError},
                        {"input_norm", c.factors->inputNorm}};
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string comparisonToWire(const PromptComparison& c)
{
    json alignment = json::array();
    for (const TokenPair& pair : c.alignment) alignment.push_back({pair.a, pair.b});
    const json j{{"schema", "spyglass.ab-wire/1"},
                 {"a", json::parse(reportToJson(c.a))},
                 {"b", json::parse(reportToJson(c.b))},
                 {"alignment", std::move(alignment)},
                 {"factors", c.factors ? factorsToJson(*c.factors) : json(nullptr)}};
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

PromptComparison comparisonFromWire(const std::string& text, const std::string& source)
{
    const json j = json::parse(text, nullptr, false);
    const auto schema = j.is_object() ? j.find("schema") : j.end();
    if (!j.is_object() || schema == j.end() || *schema != "spyglass.ab-wire/1")
        throw Error(source + ": not a spyglass.ab-wire/1 document");
    for (const char* side : {"a", "b"})
        if (!j.contains(side) || !j[side].is_object()) throw Error(source + ": the report " + side + " is missing");
    PromptComparison c;
    c.a = reportFromJson(j["a"].dump(), source + ": report a");
    c.b = reportFromJson(j["b"].dump(), source + ": report b");
    const auto alignment = j.find("alignment");
    if (alignment == j.end() || !alignment->is_array()) throw Error(source + ": alignment must be a list");
    const auto sizeA = static_cast<int64_t>(c.a.tokens.size()), sizeB = static_cast<int64_t>(c.b.tokens.size());
    for (const json& pair : *alignment) {
        if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_integer() || !pair[1].is_number_integer())
            throw Error(source + ": alignment has an item that is not a pair of indices");
        const int64_t a = pair[0].get<int64_t>(), b = pair[1].get<int64_t>();
        if (a < -1 || a >= sizeA || b < -1 || b >= sizeB || (a < 0 && b < 0))
            throw Error(source + ": alignment has a pair outside the two prompts' tokens");
        c.alignment.push_back({static_cast<int>(a), static_cast<int>(b)});
    }
    if (const auto f = j.find("factors"); f != j.end() && !f->is_null()) {
        if (!f->is_object()) throw Error(source + ": factors must be an object");
        try {
            c.factors = factorsFromJson(*f, source + ": factors");
        } catch (const json::exception& e) {
            throw Error(source + ": factors: unexpected structure: " + e.what());
        }
        const size_t positions = c.a.tokens.size() + c.b.tokens.size();
        if (c.factors->strengths.size() != static_cast<size_t>(std::max(c.factors->k, 0)) ||
            std::any_of(c.factors->strengths.begin(), c.factors->strengths.end(),
                        [&](const auto& row) { return row.size() != positions; }))
            throw Error(source + ": the joint factors' strengths are not k rows over both prompts' tokens");
    }
    return c;
}

}  // namespace spyglass::core
