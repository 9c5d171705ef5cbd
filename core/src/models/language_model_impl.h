#pragma once
// LanguageModelImpl — what LanguageModel wraps: the family's CausalLm and the tokenizer.
// Inside spyglass_core only (it exposes torch).
#include "models/causal_lm.h"

#include "spyglass/language_model.h"
#include "spyglass/tokenizer.h"

#include <memory>

namespace spyglass::core {

class LanguageModelImpl {
public:
    std::unique_ptr<CausalLm> model;
    std::unique_ptr<Tokenizer> tokenizer;
    ModelInfo info;
    std::vector<Intervention> interventions;  // what model's editor applies
};

// Opens a model folder: config.json → family → weights → tokenizer. Throws Error with the
// folder as context.
[[nodiscard]] std::unique_ptr<LanguageModelImpl> loadLanguageModel(const std::filesystem::path& path,
                                                                   const LoadOptions& options);

}  // namespace spyglass::core
