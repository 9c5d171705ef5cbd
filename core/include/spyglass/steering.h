#pragma once
// Steering vectors: a direction in the residual stream to add (steer:L:FILE:ALPHA, see
// intervention.h), from the difference of mean activations of two prompt sets.
//
//   auto v = meanDifferenceVector(model, 6, {"I love", "Great"}, {"I hate", "Awful"});
//   writeSteeringVector(v, "love.safetensors", "layer 6 …");
#include "spyglass/language_model.h"

#include <filesystem>
#include <string>
#include <vector>

namespace spyglass::core {

// mean over every position of every `positive` prompt of resid_pre.L, minus the same over
// `negative` ([d_model]). Interventions set on the model apply. Throws OptionError for an empty
// set or a layer out of range, Error for a prompt the model cannot take.
[[nodiscard]] std::vector<float> meanDifferenceVector(LanguageModel& model, int layer,
                                                      const std::vector<std::string>& positive,
                                                      const std::vector<std::string>& negative);

// The direction NMF factor `k` of `factors` writes into the residual stream: Σ over the factor's
// layers of (its loading slice of that layer) · W_down(layer), scaled to unit length ([d_model]).
// Throws OptionError for k out of range or loadings that do not fit the model.
[[nodiscard]] std::vector<float> factorDirectionVector(LanguageModel& model, const FactorSection& factors, int k);

// Writes `vector` as the F32 tensor `vector` (what loadSteeringVector reads), with `description`
// in the metadata.
void writeSteeringVector(const std::vector<float>& vector, const std::filesystem::path& path,
                         const std::string& description);

}  // namespace spyglass::core
