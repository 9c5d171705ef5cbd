#pragma once
// AnalysisSettings — what the language-model settings panel holds, as a value: how to decode and
// which sections to compute. options() turns it into the engine's options; toJson()/fromJson()
// keep it in session files (fromJson is lenient: a missing or mistyped field keeps its default,
// so older sessions open).
#include "spyglass/analysis.h"

#include <string>
#include <vector>

namespace spyglass::ui {

struct AnalysisSettings {
    int maxNewTokens = 8;
    double temperature = 0;  // 0: greedy, as Ecco
    int sampleTopK = 0;      // 0: off
    double topP = 1;         // 1: off
    int seed = 0;
    std::vector<core::SaliencyMethod> saliencyMethods{core::SaliencyMethod::GradXInput};
    core::SaliencyTarget saliencyTarget = core::SaliencyTarget::Prob;
    core::LensMode lensMode = core::LensMode::Normed;
    int lensTopK = 10;
    int factorCount = 0;           // 0: automatic, min(10, positions)
    int projectionLayer = -1;      // −1: the last layer
    std::string interventions;     // space-separated specs (spyglass/intervention.h); empty: none
    std::string interventionsOff;  // specs in the list but switched off (not applied)
    std::string steerFile;         // a steering vector (.safetensors, tensor "vector"); empty: none
    int steerLayer = 0;            // added to resid_pre of this layer
    double steerAlpha = 0;         // 0: off

    [[nodiscard]] core::AnalysisOptions options() const;
    [[nodiscard]] std::string toJson() const;  // a JSON object
    [[nodiscard]] static AnalysisSettings fromJson(const std::string& json);

    friend bool operator==(const AnalysisSettings&, const AnalysisSettings&) = default;
};

}  // namespace spyglass::ui
