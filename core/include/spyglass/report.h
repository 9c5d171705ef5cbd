#pragma once
// Report — the result of an analysis run (`spyglass.report/1`, docs/report-format.md) as plain value
// types: what the UI renders and what report_json.h reads and writes.
//
//   Report r = analyze(model, "1, 2, 3,", options);
//   for (const auto& row : r.saliency.front().rows) …   // one row per generated token
//
// Thread safety: value types.
#include "spyglass/host_tensor.h"
#include "spyglass/names.h"

#include <array>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace spyglass::core {

struct ReportModel {
    std::string path, architecture, sha256;
    int layerCount = 0, headCount = 0, modelWidth = 0, vocabSize = 0;
};

struct ReportToken {
    int id = 0;
    std::optional<std::string> text;  // null when the model has no tokenizer
    std::optional<std::pair<size_t, size_t>> offset;
    bool generated = false;
    // Generated tokens: log p(token | everything before it) under the model as run (interventions
    // included; before temperature or top-k/top-p). JSON "logprob"; null for prompt tokens.
    std::optional<float> logProb;
};

struct SaliencyRow {
    int position = 0;  // index in tokens of the generated token explained
    int tokenId = 0;
    std::vector<float> scores;              // positions 0 … position−1, sum 1
    std::vector<float> raw;                 // occlusion: Δ log p per position (unnormalised)
    std::optional<double> completenessGap;  // integrated gradients: Σ attributions − (f(x) − f(baseline))
    std::vector<float> wordScores;          // scores summed over the tokens of each word (Report::words)
};

// A word: consecutive tokens [firstToken, endToken) that belong together (a token starting with
// white space, or switching between letters, digits and punctuation, starts a new word).
struct ReportWord {
    int firstToken = 0;
    int endToken = 0;
    std::string text;
};

struct SaliencySection {
    SaliencyMethod method = SaliencyMethod::GradXInput;
    SaliencyTarget target = SaliencyTarget::Prob;
    std::vector<SaliencyRow> rows;
};

struct LensCell {
    std::vector<int> topIds;
    std::vector<float> topProbs;
    std::optional<int> nextRank;  // null at the last position
    std::optional<float> nextProb;
    float entropy = 0;  // nats
};

struct LensSection {
    LensMode mode = LensMode::Normed;
    std::vector<std::string> layers;  // "embed", "block.0", … (sublayer: "block.0.attn", "block.0.mlp", …)
    int topK = 10;
    std::vector<std::vector<LensCell>> cells;  // [layer][position]
    double selfCheckMaxAbsDiff = 0;            // normed last block vs the model's logits
};

struct FactorSection {
    std::string source = "mlp_act";
    std::vector<int> layers;
    int k = 0;
    std::vector<int> positions;
    std::vector<std::vector<float>> strengths;  // k × positions
    double reconstructionError = 0;             // ‖X − WH‖_F
    double inputNorm = 0;                       // ‖X‖_F
    double stability = 0;                       // mean best-match cosine of loadings across seeds
    int iterations = 0;
    HostTensor loadings;                                   // k × (layers · neurons)
    std::vector<std::vector<std::vector<int>>> topTokens;  // [factor][layer] → 10 ids promoted
    std::optional<std::string> loadingsFile;
};

struct ProjectionSection {
    int layer = 0;
    ProjectionSource source = ProjectionSource::MlpAct;
    ProjectionMethod method = ProjectionMethod::Pca;
    std::vector<std::array<float, 2>> points;  // one per position
    std::vector<int> clusters;
    ClusterMethod clusterMethod = ClusterMethod::KMeans;
    std::array<float, 2> explainedVariance{};
};

struct Report {
    ReportModel model;
    std::string settingsJson = "{}";  // every option that shaped the numbers (a JSON object)
    std::vector<ReportToken> tokens;
    std::vector<SaliencySection> saliency;
    std::vector<ReportWord> words;
    std::optional<LensSection> lens;
    std::optional<FactorSection> factors;
    std::optional<ProjectionSection> projection;
    // Display text of every token id the report mentions (lens top-k, factor top tokens), so a
    // reader without the tokenizer can label them. JSON: "token_texts": {"id": "text"}.
    std::map<int, std::string> tokenTexts;
};

}  // namespace spyglass::core
