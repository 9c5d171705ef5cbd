#include "spyglass/prompt_comparison.h"

#include "spyglass/error.h"

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

}  // namespace spyglass::core
