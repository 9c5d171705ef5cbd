// The CUDA path: every model family against Hugging Face transformers' tensors when run on the
// GPU (same atol 1e-4 + rtol 1e-4 as on the CPU), greedy ids exact, every analysis section equal
// to the CPU's, and a Stable Diffusion run (text encoder, UNet, scheduler, VAE, DAAM) equal to
// the CPU's from the same seed. Skipped where no GPU is visible (CI); tools/device/cuda_check.sh
// runs it on a GPU machine.
#include "quick_analysis.h"
#include "reference_trace.h"
#include "test_support.h"

#include "spyglass/analysis.h"
#include "spyglass/diffusion.h"
#include "spyglass/error.h"
#include "spyglass/language_model.h"
#include "spyglass/runtime.h"
#include "spyglass/safetensors.h"

#include <algorithm>
#include <cmath>
#include <iostream>

using namespace spyglass::core;
using spyglass::test::allClose;
using spyglass::test::asInts;
using spyglass::test::fixture;

namespace {

// GTEST_SKIP returns from the function it is written in: a macro, so that it ends the test.
#define SPYGLASS_REQUIRE_CUDA() \
    if (!cudaAvailable()) GTEST_SKIP() << "no CUDA device visible (" << runtimeDescription() << ")"

HostTensor asTensor(const std::vector<float>& v)
{
    return {{static_cast<int64_t>(v.size())}, v};
}

// Folders under tests/fixtures with a reference.safetensors of Hugging Face activations.
class CudaFamily : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override { SPYGLASS_REQUIRE_CUDA(); }
    std::filesystem::path dir() const { return fixture(GetParam()); }
};

}  // namespace

TEST_P(CudaFamily, EveryTensorMatchesTransformersOnTheGpu)
{
    auto model = LanguageModel::load(dir(), {.device = "cuda", .tokenizer = {}});
    EXPECT_EQ(model->info().device, "cuda");
    auto reference = SafetensorsFile::open(dir() / "reference.safetensors");
    const auto trace = model->trace(asInts(reference->readInt64("input_ids")));
    int compared = 0;
    for (const auto& view : reference->tensors()) {
        if (view.dtype != DType::F32 || view.name == "greedy_step_logits") continue;
        const std::string name = view.name == "ln_f_out" ? "final_norm_out" : view.name;
        ASSERT_TRUE(trace.count(name)) << name;
        EXPECT_TRUE(allClose(trace.at(name), reference->readFloat(view.name))) << GetParam() << " " << name;
        ++compared;
    }
    EXPECT_GE(compared, 2 + 4 * model->info().layerCount);
}

TEST_P(CudaFamily, GreedyIdsEqualTheCpuWithAndWithoutCache)
{
    auto gpu = LanguageModel::load(dir(), {.device = "cuda", .tokenizer = {}});
    auto cpu = LanguageModel::load(dir());
    const auto ids = asInts(SafetensorsFile::open(dir() / "reference.safetensors")->readInt64("input_ids"));
    SamplingOptions o;
    o.maxNewTokens = 12;
    o.stopAtEos = false;
    const auto expected = cpu->generate(ids, o).generatedIds;
    EXPECT_EQ(gpu->generate(ids, o).generatedIds, expected);
    o.useKvCache = false;
    EXPECT_EQ(gpu->generate(ids, o).generatedIds, expected);
}

TEST_P(CudaFamily, EveryAnalysisEqualsTheCpu)
{
    auto gpu = LanguageModel::load(dir(), {.device = "cuda", .tokenizer = {}});
    auto cpu = LanguageModel::load(dir());
    const auto ids = asInts(SafetensorsFile::open(dir() / "reference.safetensors")->readInt64("input_ids"));
    AnalysisOptions o = spyglass::test::everyMethodQuickly();
    o.factorCount = 3;
    o.clusterCount = 2;
    const Report a = analyzeIds(*gpu, ids, o);
    const Report b = analyzeIds(*cpu, ids, o);
    ASSERT_EQ(a.tokens.size(), b.tokens.size());
    for (size_t i = 0; i < a.tokens.size(); ++i) EXPECT_EQ(a.tokens[i].id, b.tokens[i].id) << i;
    ASSERT_EQ(a.saliency.size(), b.saliency.size());
    for (size_t s = 0; s < a.saliency.size(); ++s)
        for (size_t r = 0; r < a.saliency[s].rows.size(); ++r)
            EXPECT_TRUE(
                allClose(asTensor(a.saliency[s].rows[r].scores), asTensor(b.saliency[s].rows[r].scores), 1e-4, 1e-3))
                << name(a.saliency[s].method) << " row " << r;
    ASSERT_TRUE(a.lens && b.lens);
    EXPECT_LT(a.lens->selfCheckMaxAbsDiff, 1e-4);
    for (size_t l = 0; l < a.lens->cells.size(); ++l)
        for (size_t p = 0; p < a.lens->cells[l].size(); ++p) {
            const LensCell& x = a.lens->cells[l][p];
            const LensCell& y = b.lens->cells[l][p];
            EXPECT_EQ(x.topIds.front(), y.topIds.front()) << "layer " << l << " position " << p;
            EXPECT_NEAR(x.topProbs.front(), y.topProbs.front(), 1e-5) << "layer " << l << " position " << p;
            EXPECT_NEAR(x.entropy, y.entropy, 1e-4) << "layer " << l << " position " << p;
        }
    ASSERT_TRUE(a.factors && b.factors);
    for (size_t f = 0; f < b.factors->strengths.size(); ++f)
        EXPECT_TRUE(allClose(asTensor(a.factors->strengths[f]), asTensor(b.factors->strengths[f]), 1e-3, 1e-2))
            << "factor " << f;
    EXPECT_NEAR(a.factors->reconstructionError / a.factors->inputNorm,
                b.factors->reconstructionError / b.factors->inputNorm, 1e-4);
    ASSERT_TRUE(a.projection && b.projection);
    for (size_t p = 0; p < b.projection->points.size(); ++p)
        for (size_t axis = 0; axis < 2; ++axis)
            EXPECT_NEAR(a.projection->points[p][axis], b.projection->points[p][axis],
                        1e-3 * (1 + std::abs(b.projection->points[p][axis])));
    EXPECT_EQ(a.projection->clusters, b.projection->clusters);
}

INSTANTIATE_TEST_SUITE_P(Families, CudaFamily,
                         ::testing::Values("gpt2-tiny-random", "families/llama-tiny-random",
                                           "families/neox-tiny-random"),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                             std::string name = param.param.substr(param.param.find('/') + 1);
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

TEST(Cuda, MissingDeviceIndexIsAClearError)
{
    SPYGLASS_REQUIRE_CUDA();
    try {
        (void)LanguageModel::load(fixture("gpt2-tiny-random"), {.device = "cuda:99", .tokenizer = {}});
        FAIL() << "cuda:99 loaded";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'cuda:99' is not available"), std::string::npos) << e.what();
    }
}

namespace {

double maxAbsDiff(const HostTensor& a, const HostTensor& b, int64_t first = 0, int64_t count = -1)
{
    const size_t begin = static_cast<size_t>(first),
                 end = count < 0 ? a.values.size() : static_cast<size_t>(first + count);
    double worst = 0;
    for (size_t i = begin; i < end && i < a.values.size() && i < b.values.size(); ++i)
        worst = std::max(worst, std::abs(double(a.values[i]) - b.values[i]));
    return worst;
}

}  // namespace

TEST(Cuda, StableDiffusionRunEqualsTheCpuFromTheSameSeed)
{
    // One UNet call on the GPU agrees with the CPU within the component tolerances of the
    // diffusers parity (text encoder 1e-5, one denoising step 1e-4). Over a whole run the float32
    // rounding of different convolution algorithms is carried through every step: measured on an
    // H200 (libtorch 2.11, TF32 off) the image differed by at most 9.8e-4 after 6 steps, so a
    // whole run is held to the diffusers whole-run latents tolerance, 2e-3, and one-level uint8
    // differences on at most 3% of bytes.
    SPYGLASS_REQUIRE_CUDA();
    auto gpu = DiffusionModel::load(fixture("sd-tiny-random"), "cuda");
    auto cpu = DiffusionModel::load(fixture("sd-tiny-random"), "cpu");
    DiffusionOptions o;
    o.prompt = "a photo of a hand, masterpiece, best quality";
    o.negativePrompt = "blurry";
    o.steps = 6;
    o.seed = 3;
    for (const char* scheduler : {"ddim", "euler_a"}) {
        o.scheduler = scheduler;
        const DiffusionResult a = gpu->generate(o);
        const DiffusionResult b = cpu->generate(o);
        EXPECT_EQ(a.tokenIds, b.tokenIds);
        EXPECT_TRUE(allClose(a.promptEmbeds, b.promptEmbeds, 1e-5, 1e-5)) << scheduler;
        const int64_t step = a.latents.numel() / a.latents.shape[0];
        const double first = maxAbsDiff(a.latents, b.latents, step, step),
                     last = maxAbsDiff(a.latents, b.latents, step * (a.latents.shape[0] - 1), step);
        const double image = maxAbsDiff(a.image, b.image);
        std::cout << scheduler << ": max |gpu - cpu| embeddings " << maxAbsDiff(a.promptEmbeds, b.promptEmbeds)
                  << ", latents after step 1 " << first << ", final latents " << last << ", image " << image << "\n";
        EXPECT_LE(first, 1e-4) << scheduler;
        EXPECT_LE(image, 2e-3) << scheduler;
        ASSERT_EQ(a.rgb.size(), b.rgb.size());
        size_t off = 0;
        for (size_t i = 0; i < a.rgb.size(); ++i) {
            EXPECT_LE(std::abs(int(a.rgb[i]) - int(b.rgb[i])), 1) << scheduler << " byte " << i;
            off += a.rgb[i] != b.rgb[i];
        }
        std::cout << scheduler << ": " << off << " of " << a.rgb.size() << " bytes differ by one level\n";
        EXPECT_LE(off, a.rgb.size() * 3 / 100) << scheduler;
        EXPECT_TRUE(allClose(a.heatmaps.tokenMaps, b.heatmaps.tokenMaps, 1e-5, 1e-3)) << scheduler;
        ASSERT_EQ(a.heatmaps.words.size(), b.heatmaps.words.size());
    }
}
