// The saliency the analysis computes with one forward and batched (vmap'd) backward passes (#18),
// checked against the plain way on every family, a GGUF file of each tokenizer kind and GPT-2
// with more targets than one backward takes: for every explained token one forward over its
// context and one backward from its target alone — the same grad×input and gradient shares
// within 1e-4, for a probability and a contrastive logit target.
#include "reference_trace.h"
#include "test_support.h"

#include "models/causal_lm.h"
#include "models/language_model_impl.h"

#include "spyglass/analysis.h"
#include "spyglass/language_model.h"
#include "spyglass/names.h"
#include "spyglass/safetensors.h"

#include <gtest/gtest.h>

using namespace spyglass::core;
using spyglass::test::asInts;
using spyglass::test::fixture;

namespace {

void expectSaliencyEqualsOnePassPerToken(LanguageModel& model, const Report& report, const AnalysisOptions& options)
{
    const CausalLm& lm = *model.impl().model;
    int compared = 0;
    for (const auto& section : report.saliency) {
        if (section.method != SaliencyMethod::GradXInput && section.method != SaliencyMethod::Gradient) continue;
        ASSERT_FALSE(section.rows.empty());
        for (const auto& row : section.rows) {
            std::vector<int64_t> context;
            for (int p = 0; p < row.position; ++p) context.push_back(report.tokens[static_cast<size_t>(p)].id);
            const int next = report.tokens[static_cast<size_t>(row.position)].id;
            ASSERT_EQ(row.tokenId, next);
            torch::AutoGradMode grad(true);
            torch::Tensor e = lm.embedTokens(torch::tensor(context).view({1, -1})).detach().requires_grad_(true);
            ForwardOptions f;
            f.lastLogitsOnly = true;
            const torch::Tensor last = lm.forwardEmbeddings(e, f)[0][0];
            const torch::Tensor values =
                options.saliencyTarget == SaliencyTarget::Logit ? last : torch::softmax(last, -1);
            torch::Tensor target = values[next];
            if (options.contrastWith) target = target - values[*options.contrastWith];
            target.backward();
            const torch::Tensor g = e.grad()[0].to(torch::kFloat64);
            const torch::Tensor norms = section.method == SaliencyMethod::GradXInput
                                            ? (g * e.detach()[0].to(torch::kFloat64)).norm(2, -1)
                                            : g.norm(2, -1);
            const torch::Tensor expected = norms / norms.sum();
            ASSERT_EQ(row.scores.size(), static_cast<size_t>(row.position));
            for (int p = 0; p < row.position; ++p)
                EXPECT_NEAR(row.scores[static_cast<size_t>(p)], expected[p].item<double>(), 1e-4)
                    << name(section.method) << " row " << row.position << " input " << p;
            ++compared;
        }
    }
    EXPECT_GT(compared, 0);
}

// Every saliency option that changes the target: probability, and a contrastive logit.
void checkModel(const std::filesystem::path& path, const std::vector<int>& ids, int newTokens)
{
    auto model = LanguageModel::load(path);
    AnalysisOptions o;
    o.maxNewTokens = newTokens;
    o.saliencyMethods = {SaliencyMethod::GradXInput, SaliencyMethod::Gradient};
    o.lens = o.factors = o.projection = false;
    expectSaliencyEqualsOnePassPerToken(*model, analyzeIds(*model, ids, o), o);
    o.saliencyTarget = SaliencyTarget::Logit;
    o.contrastWith = ids.front();
    expectSaliencyEqualsOnePassPerToken(*model, analyzeIds(*model, ids, o), o);
}

std::vector<int> referenceIds(const std::filesystem::path& file)
{
    return asInts(SafetensorsFile::open(file)->readInt64("input_ids"));
}

class BatchedSaliencyFamily : public ::testing::TestWithParam<std::string> {};
class BatchedSaliencyGguf : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST(BatchedSaliency, Gpt2OverSeveralBackwardChunks)
{
    // 18 targets: more than one batched backward takes (16), so the graph is reused across chunks.
    checkModel(fixture("gpt2-tiny-random"), {16, 11, 362, 11, 513, 11, 604, 11}, 18);
}

TEST_P(BatchedSaliencyFamily, EqualsOnePassPerToken)
{
    const auto dir = fixture("families/" + GetParam());
    checkModel(dir, referenceIds(dir / "reference.safetensors"), 5);
}

TEST_P(BatchedSaliencyGguf, EqualsOnePassPerToken)
{
    checkModel(fixture("gguf/" + GetParam() + ".gguf"),
               referenceIds(fixture("gguf/" + GetParam() + ".reference.safetensors")), 5);
}

INSTANTIATE_TEST_SUITE_P(Families, BatchedSaliencyFamily,
                         ::testing::Values("llama-tiny-random", "llama-ropescale-random", "neox-tiny-random",
                                           "gemma-tiny-random", "gemma2-tiny-random", "phi3-tiny-random",
                                           "qwen3-tiny-random"));
INSTANTIATE_TEST_SUITE_P(Files, BatchedSaliencyGguf,
                         ::testing::Values("llama-tiny-random.q8_0", "gpt2-tiny-random.q8_0"));
