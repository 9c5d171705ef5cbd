#include "spyglass/report_summary.h"

#include "spyglass/error.h"
#include "spyglass/report_json.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace spyglass::core {

std::string tokenClass(const std::string& text)
{
    if (text.empty()) return "other";
    bool digits = true, letters = true, spaces = true, punctuation = true;
    size_t start = 0;
    while (start < text.size() && (text[start] == ' ' || text[start] == '\t' || text[start] == '\n')) ++start;
    for (size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        spaces = spaces && space;
        if (i < start) continue;  // a leading space belongs to the word or number after it
        digits = digits && std::isdigit(c);
        letters = letters && (std::isalpha(c) || c >= 0x80);  // UTF-8 letters count as word pieces
        punctuation = punctuation && std::ispunct(c);
    }
    if (spaces) return "space";
    if (digits) return "digit";
    if (punctuation) return "punctuation";
    if (letters) return "word";
    return "other";
}

namespace {

std::string textOf(const Report& r, size_t position)
{
    const ReportToken& t = r.tokens[position];
    if (t.text) return *t.text;
    const auto it = r.tokenTexts.find(t.id);
    return it == r.tokenTexts.end() ? std::string() : it->second;
}

}  // namespace

DatasetSummary summarizeReports(const std::vector<Report>& reports)
{
    DatasetSummary s;
    double stabilitySum = 0, errorSum = 0;
    s.minStability = 1;
    s.maxStability = 0;
    std::vector<std::string> layerOrder;
    std::map<std::string, int> firstCorrect;
    for (const Report& r : reports) {
        ++s.reports;
        for (size_t p = 0; p < r.tokens.size(); ++p) {
            (r.tokens[p].generated ? s.generatedTokens : s.promptTokens) += 1;
            s.contextTokensByClass[tokenClass(textOf(r, p))] += 1;
        }
        if (!r.saliency.empty()) {
            const std::string method = nameString(r.saliency.front().method);
            s.saliencyMethod = s.saliencyMethod.empty() || s.saliencyMethod == method ? method : "mixed";
            for (const SaliencyRow& row : r.saliency.front().rows) {
                ++s.saliencyRows;
                for (size_t p = 0; p < row.scores.size() && p < r.tokens.size(); ++p)
                    s.shareByClass[tokenClass(textOf(r, p))] += row.scores[p];
                if (!row.scores.empty()) s.firstTokenShare += row.scores.front();
            }
        }
        if (r.factors) {
            ++s.factorReports;
            s.reportsByK[r.factors->k] += 1;
            errorSum += r.factors->inputNorm > 0 ? r.factors->reconstructionError / r.factors->inputNorm : 0;
            stabilitySum += r.factors->stability;
            s.minStability = std::min(s.minStability, r.factors->stability);
            s.maxStability = std::max(s.maxStability, r.factors->stability);
        }
        if (r.lens && !r.lens->cells.empty()) {
            for (const auto& label : r.lens->layers)
                if (std::find(layerOrder.begin(), layerOrder.end(), label) == layerOrder.end())
                    layerOrder.push_back(label);
            const size_t positions = r.lens->cells.front().size();
            for (size_t p = 0; p < positions; ++p) {
                if (!r.lens->cells.front()[p].nextRank) continue;
                ++s.lensPositions;
                std::string first = "never";
                for (size_t l = 0; l < r.lens->cells.size() && l < r.lens->layers.size(); ++l)
                    if (p < r.lens->cells[l].size() && r.lens->cells[l][p].nextRank == 1) {
                        first = r.lens->layers[l];
                        break;
                    }
                firstCorrect[first] += 1;
            }
        }
    }
    if (s.saliencyRows > 0) {
        for (auto& [cls, share] : s.shareByClass) share /= s.saliencyRows;
        s.firstTokenShare /= s.saliencyRows;
    }
    if (s.factorReports > 0) {
        s.meanRelativeError = errorSum / s.factorReports;
        s.meanStability = stabilitySum / s.factorReports;
    } else {
        s.minStability = s.maxStability = 0;
    }
    layerOrder.push_back("never");
    s.lensLayers = layerOrder;
    for (const auto& label : layerOrder)
        s.firstCorrectLayer.push_back(firstCorrect.count(label) ? firstCorrect[label] : 0);
    return s;
}

std::string summaryJson(const DatasetSummary& s)
{
    nlohmann::ordered_json j;
    j["format"] = "spyglass.summary/1";
    j["reports"] = s.reports;
    j["tokens"] = {{"prompt", s.promptTokens}, {"generated", s.generatedTokens}, {"by_class", s.contextTokensByClass}};
    j["saliency"] = {{"method", s.saliencyMethod},
                     {"rows", s.saliencyRows},
                     {"mean_share_by_token_class", s.shareByClass},
                     {"mean_first_token_share", s.firstTokenShare}};
    nlohmann::ordered_json byK = nlohmann::ordered_json::object();
    for (const auto& [k, n] : s.reportsByK) byK[std::to_string(k)] = n;
    j["factors"] = {{"reports", s.factorReports},
                    {"reports_by_k", byK},
                    {"mean_relative_error", s.meanRelativeError},
                    {"stability", {{"mean", s.meanStability}, {"min", s.minStability}, {"max", s.maxStability}}}};
    nlohmann::ordered_json histogram = nlohmann::ordered_json::object();
    for (size_t i = 0; i < s.lensLayers.size(); ++i) histogram[s.lensLayers[i]] = s.firstCorrectLayer[i];
    j["lens"] = {{"positions", s.lensPositions}, {"first_correct_layer", histogram}};
    return j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string summaryCsv(const DatasetSummary& s)
{
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out.precision(9);
    out << "section,key,value\n";
    out << "all,reports," << s.reports << "\nall,prompt_tokens," << s.promptTokens << "\nall,generated_tokens,"
        << s.generatedTokens << "\n";
    for (const auto& [cls, n] : s.contextTokensByClass) out << "tokens,class:" << cls << "," << n << "\n";
    out << "saliency,rows," << s.saliencyRows << "\n";
    for (const auto& [cls, share] : s.shareByClass) out << "saliency,mean_share:" << cls << "," << share << "\n";
    out << "saliency,mean_first_token_share," << s.firstTokenShare << "\n";
    out << "factors,reports," << s.factorReports << "\n";
    for (const auto& [k, n] : s.reportsByK) out << "factors,reports_with_k:" << k << "," << n << "\n";
    out << "factors,mean_relative_error," << s.meanRelativeError << "\nfactors,mean_stability," << s.meanStability
        << "\nfactors,min_stability," << s.minStability << "\nfactors,max_stability," << s.maxStability << "\n";
    out << "lens,positions," << s.lensPositions << "\n";
    for (size_t i = 0; i < s.lensLayers.size(); ++i)
        out << "lens,first_correct_layer:" << s.lensLayers[i] << "," << s.firstCorrectLayer[i] << "\n";
    return out.str();
}

DatasetSummary summarizeFolder(const std::filesystem::path& dir, std::vector<std::string>* skipped)
{
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) throw Error(dir.string() + ": not a folder");
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (entry.is_regular_file() && entry.path().extension() == ".json" &&
            name.find(".error.json") == std::string::npos)
            files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<Report> reports;
    for (const auto& file : files) {
        try {
            reports.push_back(readReport(file));
        } catch (const Error& e) {
            if (skipped) skipped->push_back(e.what());
        }
    }
    if (reports.empty()) throw Error(dir.string() + ": no reports");
    return summarizeReports(reports);
}

DatasetSummary parseSummaryJson(const std::string& text, const std::string& origin)
{
    nlohmann::ordered_json j;
    try {
        j = nlohmann::ordered_json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw Error(origin + ": not JSON (" + e.what() + ")");
    }
    if (!j.is_object() || j.value("format", "") != "spyglass.summary/1")
        throw Error(origin +
                    ": not a dataset summary (\"format\": \"spyglass.summary/1\", from spyglass-cli aggregate)");
    DatasetSummary s;
    std::string field;
    try {
        field = "reports";
        s.reports = j.at("reports").get<int>();
        field = "tokens";
        const auto& tokens = j.at("tokens");
        s.promptTokens = tokens.at("prompt").get<int>();
        s.generatedTokens = tokens.at("generated").get<int>();
        for (const auto& [cls, n] : tokens.at("by_class").items()) s.contextTokensByClass[cls] = n.get<int>();
        field = "saliency";
        const auto& saliency = j.at("saliency");
        s.saliencyMethod = saliency.at("method").get<std::string>();
        s.saliencyRows = saliency.at("rows").get<int>();
        for (const auto& [cls, v] : saliency.at("mean_share_by_token_class").items())
            s.shareByClass[cls] = v.get<double>();
        s.firstTokenShare = saliency.at("mean_first_token_share").get<double>();
        field = "factors";
        const auto& factors = j.at("factors");
        s.factorReports = factors.at("reports").get<int>();
        for (const auto& [k, n] : factors.at("reports_by_k").items()) s.reportsByK[std::stoi(k)] = n.get<int>();
        s.meanRelativeError = factors.at("mean_relative_error").get<double>();
        s.meanStability = factors.at("stability").at("mean").get<double>();
        s.minStability = factors.at("stability").at("min").get<double>();
        s.maxStability = factors.at("stability").at("max").get<double>();
        field = "lens";
        const auto& lens = j.at("lens");
        s.lensPositions = lens.at("positions").get<int>();
        for (const auto& [layer, n] : lens.at("first_correct_layer").items()) {
            s.lensLayers.push_back(layer);
            s.firstCorrectLayer.push_back(n.get<int>());
        }
    } catch (const std::exception& e) {
        throw Error(origin + ": \"" + field + "\" is missing or malformed (" + e.what() + ")");
    }
    return s;
}

}  // namespace spyglass::core
