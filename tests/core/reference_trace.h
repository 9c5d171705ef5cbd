#pragma once
// Every activation a model captures against a reference.safetensors made by transformers on the
// same weights and ids (the families, GGUF files): atol 1e-4 + rtol 1e-4, and how many compared.
#include "test_support.h"

#include "spyglass/language_model.h"
#include "spyglass/safetensors.h"

namespace spyglass::test {

inline std::vector<int> asInts(const std::vector<int64_t>& v)
{
    return {v.begin(), v.end()};
}

// Compares every F32 tensor of `referenceFile` (but the greedy step logits) with the model's trace
// over its input_ids; returns the number of tensors compared.
inline int expectTraceMatchesReference(core::LanguageModel& model, const std::filesystem::path& referenceFile,
                                       const std::string& label)
{
    auto reference = core::SafetensorsFile::open(referenceFile);
    const auto trace = model.trace(asInts(reference->readInt64("input_ids")));
    int compared = 0;
    for (const auto& view : reference->tensors()) {
        if (view.dtype != core::DType::F32 || view.name == "greedy_step_logits") continue;
        if (!trace.count(view.name)) {
            ADD_FAILURE() << label << ": the trace has no " << view.name;
            continue;
        }
        EXPECT_TRUE(allClose(trace.at(view.name), reference->readFloat(view.name))) << label << " " << view.name;
        ++compared;
    }
    return compared;
}

// Greedy generation from the reference's input_ids gives its generated_ids, with and without the
// KV cache.
inline void expectGreedyIdsMatchReference(core::LanguageModel& model, const std::filesystem::path& referenceFile)
{
    auto reference = core::SafetensorsFile::open(referenceFile);
    const auto ids = asInts(reference->readInt64("input_ids"));
    const auto expected = asInts(reference->readInt64("generated_ids"));
    core::SamplingOptions o;
    o.maxNewTokens = static_cast<int>(expected.size());
    o.stopAtEos = false;
    EXPECT_EQ(model.generate(ids, o).generatedIds, expected);
    o.useKvCache = false;
    EXPECT_EQ(model.generate(ids, o).generatedIds, expected);
}

}  // namespace spyglass::test
