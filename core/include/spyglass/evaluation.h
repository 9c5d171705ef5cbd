#pragma once
// Measured skills of a language model on the built-in tasks (what `spyglass-cli eval` prints and
// the default model's card reports): counting, addition by number of digits, list and fact
// recall, and perplexity on held-out prose. Greedy decoding throughout.
//
//   auto metrics = evaluate(*model, {.proseFile = "kjv.txt"});
//
// Thread safety: uses the model exclusively while it runs.
#include "spyglass/language_model.h"

#include <string>
#include <vector>

namespace spyglass::core {

struct EvalOptions {
    std::string proseFile;  // held-out prose = the last 5% of its lines, as the trainer splits it
    int trials = 100;       // per counting/addition metric
    int maxDigits = 5;      // addition is measured for 1 … maxDigits-digit operands
    uint64_t seed = 7;
};

struct EvalMetric {
    std::string name;  // e.g. "addition_3_digits"
    double value = 0;  // accuracy in [0, 1], or perplexity
    int trials = 0;
    std::string example;  // one prompt → answer seen, for the card
};

// Throws Error when the model has no tokenizer.
[[nodiscard]] std::vector<EvalMetric> evaluate(LanguageModel& model, const EvalOptions& options,
                                               const ProgressCallback& progress = {});

}  // namespace spyglass::core
