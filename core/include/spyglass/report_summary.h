#pragma once
// Dataset-level tables over many reports (`spyglass-cli aggregate`): how saliency divides between
// kinds of context tokens, what the factors look like, and at which layer the lens first ranks
// the real next token first. Torch-free: it reads Report values only.
//
//   DatasetSummary s = summarizeReports(reports);
//   writeFileAtomically("summary.json", summaryJson(s));
#include "spyglass/report.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace spyglass::core {

// "digit", "punctuation", "space", "word" (letters, with or without a leading space) or "other".
[[nodiscard]] std::string tokenClass(const std::string& text);

struct DatasetSummary {
    int reports = 0;
    int promptTokens = 0, generatedTokens = 0;
    // Saliency (each report's first section): per generated token, the shares of its context
    // summed by token class, then the mean over every row of every report.
    int saliencyRows = 0;
    std::string saliencyMethod;  // of the first report ("mixed" when they differ)
    std::map<std::string, double> shareByClass;
    std::map<std::string, int> contextTokensByClass;
    double firstTokenShare = 0;  // mean share of position 0
    // Factors
    int factorReports = 0;
    std::map<int, int> reportsByK;
    double meanRelativeError = 0;  // ‖X − WH‖ / ‖X‖
    double meanStability = 0, minStability = 0, maxStability = 0;
    // Lens: per position that has a next token, the first layer ranking it first ("never": none).
    int lensPositions = 0;
    std::vector<std::string> lensLayers;  // in the order first seen, then "never"
    std::vector<int> firstCorrectLayer;   // counts, parallel to lensLayers
};

[[nodiscard]] DatasetSummary summarizeReports(const std::vector<Report>& reports);
// Every report of a folder (*.json but *.error.json: a batch's --out-dir), summarized. Files that are
// not reports are skipped and named in `skipped` ("<file>: <reason>"). Throws Error naming the
// folder when it is not one or holds no report.
[[nodiscard]] DatasetSummary summarizeFolder(const std::filesystem::path& dir,
                                             std::vector<std::string>* skipped = nullptr);
// A summary written by summaryJson, read back; throws Error naming `origin` and the field.
[[nodiscard]] DatasetSummary parseSummaryJson(const std::string& text, const std::string& origin);
// {"format": "spyglass.summary/1", "reports": …, "saliency": {…}, "factors": {…}, "lens": {…}}
[[nodiscard]] std::string summaryJson(const DatasetSummary& summary);
// One row per number: section,key,value.
[[nodiscard]] std::string summaryCsv(const DatasetSummary& summary);

}  // namespace spyglass::core
