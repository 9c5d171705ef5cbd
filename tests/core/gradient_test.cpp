// Gradients flow from the model's output to the word embeddings (what saliency needs, #2): the
// grad×input and gradient-norm shares for every generated token equal Ecco's (atol 1e-4).
#include "test_support.h"

#include "models/causal_lm.h"
#include "models/language_model_impl.h"

#include "spyglass/language_model.h"

#include <nlohmann/json.hpp>

#include <fstream>

using namespace spyglass::core;
using spyglass::test::fixture;

TEST(Gradients, WordEmbeddingGradientsMatchEcco)
{
    auto lm = LanguageModel::load(fixture("gpt2-tiny-random"));
    const CausalLm& model = *lm->impl().model;
    std::ifstream in(fixture("gpt2-tiny-random/ecco.json"));
    const auto ecco = nlohmann::json::parse(in);
    const auto all = ecco["all_ids"].get<std::vector<int64_t>>();
    const auto generated = ecco["generated_ids"].get<std::vector<int64_t>>();
    const size_t inputs = ecco["n_input_tokens"].get<size_t>();
    for (size_t j = 0; j < generated.size(); ++j) {
        const std::vector<int64_t> context(all.begin(), all.begin() + static_cast<long>(inputs + j));
        const torch::Tensor ids = torch::tensor(context).view({1, -1});
        const torch::Tensor embeddings = model.embedTokens(ids).detach().requires_grad_(true);
        const torch::Tensor logits = model.forwardEmbeddings(embeddings, {});
        const torch::Tensor prob = torch::softmax(logits[0][-1], -1)[generated[j]];
        prob.backward();
        const torch::Tensor grad = embeddings.grad()[0];
        ASSERT_TRUE(grad.defined());
        const torch::Tensor gxi = (grad * embeddings[0].detach()).norm(2, -1);
        const torch::Tensor gn = grad.norm(2, -1);
        const auto expectedGxi = ecco["attribution"]["grad_x_input"][j].get<std::vector<double>>();
        const auto expectedSal = ecco["attribution"]["saliency"][j].get<std::vector<double>>();
        ASSERT_EQ(static_cast<size_t>(gxi.size(0)), expectedGxi.size());
        for (size_t i = 0; i < expectedGxi.size(); ++i) {
            EXPECT_NEAR((gxi[static_cast<long>(i)] / gxi.sum()).item<double>(), expectedGxi[i], 1e-4)
                << "token " << j << ", input " << i;
            EXPECT_NEAR((gn[static_cast<long>(i)] / gn.sum()).item<double>(), expectedSal[i], 1e-4)
                << "token " << j << ", input " << i;
        }
    }
}
