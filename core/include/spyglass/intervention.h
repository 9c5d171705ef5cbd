#pragma once
// Interventions — changes to a language model's activations while it runs: ablate MLP neurons,
// attention heads or an NMF factor, or steer the residual stream. Torch-free value types and
// their text form (the CLI's --ablate / --steer and the report's "interventions" list):
//
//   neuron:L:N[,N…][@P[,P…]][=V|*S]     MLP neurons N of layer L (mlp_act.L) — zero, set to V, scale by S
//   head:L:H[,H…][@P[,P…]][=V|*S]       attention heads H of layer L: the head's output before the
//                                       output projection (pattern · v)
//   attn:L[@P…][=V|*S]                  layer L's attention output (attn_out.L, what the block adds)
//   mlp:L[@P…][=V|*S]                   layer L's MLP output (mlp_out.L)
//   factor:K[:FILE][@P…]                 NMF factor K of a report: each of its layers' mlp_act has its
//                                       component along the factor's loading direction removed (FILE:
//                                       the report JSON, or the .loadings.safetensors it saved)
//   steer:L:FILE:ALPHA[@P…]              resid_pre.L += ALPHA · v (FILE: a .safetensors with `vector` [d_model])
//
// Positions P are absolute token indices (prompt and generated alike); none given: every position.
//
//   auto a = parseIntervention("neuron:1:5,7=0");      // throws OptionError naming the spec
//   model.setInterventions({a});                        // every later forward pass applies it
#include "spyglass/report.h"

#include <string>
#include <vector>

namespace spyglass::core {

struct Intervention {
    enum class Target { Neuron, Head, Factor, Steer, AttnOut, MlpOut };
    enum class Operation { Zero, Set, Scale };
    Target target = Target::Neuron;
    int layer = 0;
    std::vector<int> units;      // neurons or heads; Factor: the factor index (one entry); AttnOut/MlpOut: none
    std::vector<int> positions;  // absolute positions; empty: all
    Operation operation = Operation::Zero;
    float value = 0;               // Set: the value; Scale: the factor
    std::vector<float> direction;  // Factor: the loading direction in mlp_act.L (unit length); Steer: v
    float alpha = 0;               // Steer
    std::string source;            // Steer: the vector's file; Factor: the report it came from
    bool enabled = true;
};

// Parses one spec (grammar above). Factor and steer specs come back without their direction:
// resolveFactor() and the caller's file reader fill it. Throws OptionError naming `spec`.
[[nodiscard]] Intervention parseIntervention(const std::string& spec);

// The spec's canonical text (round-trips through parseIntervention).
[[nodiscard]] std::string formatIntervention(const Intervention& intervention);

// Expands a parsed factor:K into one intervention per layer of `factors`, each with the unit
// direction of its layer's slice of the loadings (`neurons` per layer). Throws OptionError when K
// is out of range or a slice is all zero.
[[nodiscard]] std::vector<Intervention> resolveFactor(const Intervention& factor, const FactorSection& factors,
                                                      int neurons);
// The same with the neurons per layer taken from the loadings' width.
[[nodiscard]] std::vector<Intervention> resolveFactor(const Intervention& factor, const FactorSection& factors);

// The factors (loadings and layers) a factor:K:FILE spec refers to: a report JSON with its loadings
// beside it, or a .loadings.safetensors (analyze --save-loadings). Throws Error naming the file.
[[nodiscard]] FactorSection readFactorLoadings(const std::string& path);

// Reads a steering intervention's vector from its file (`source`: a .safetensors holding the
// tensor `vector`, one dimension, any float dtype). Throws Error naming the file and the reason.
void loadSteeringVector(Intervention& steer);

// Specs as people type them (the app's Interventions field, a report's settings.interventions):
// parsed, steering vectors read from their files, factor:K:FILE resolved to one intervention per
// layer. A factor spec without FILE is refused (OptionError "interventions").
[[nodiscard]] std::vector<Intervention> parseInterventions(const std::vector<std::string>& specs);

// The specs a report was made with (its settings.interventions); empty when none are recorded.
[[nodiscard]] std::vector<std::string> recordedInterventions(const Report& report);

// Throws OptionError when an intervention does not fit a model: layer, neuron or head index out
// of range, a steering vector of the wrong width, a direction of the wrong length.
void validateInterventions(const std::vector<Intervention>& interventions, int layerCount, int headCount, int mlpWidth,
                           int modelWidth);

}  // namespace spyglass::core
