// SDXL (#16) against diffusers 0.21.2 + DAAM 0.2.0 on the tiny random SDXL pipeline
// (tests/fixtures/sdxl-tiny-random, tolerances from its README): both tokenizers' ids exact, prompt
// and pooled embeddings 1e-5 (zeros for no negative prompt), the UNet with text_time conditioning
// 5e-5 from the stored inputs, attention probabilities 1e-5; whole Euler and DPM++ 2M Karras runs:
// latents 2e-3, image 5e-4, uint8 off by ≤ 1 on ≤ 0.5%, DAAM token and word maps 2e-5.
#include "test_support.h"

#include "image/unet_model.h"
#include "models/torch_weights.h"
#include "spyglass/diffusion.h"
#include "spyglass/error.h"
#include "spyglass/safetensors.h"

using namespace spyglass::core;
using spyglass::test::allClose;
using spyglass::test::fixture;
using spyglass::test::TempDir;

namespace {

std::filesystem::path xl()
{
    return fixture("sdxl-tiny-random");
}

const SafetensorsFile& xlReference()
{
    static const auto file = SafetensorsFile::open(xl() / "reference.safetensors");
    return *file;
}

torch::Tensor xlRef(const std::string& name)
{
    const HostTensor h = xlReference().readFloat(name);
    return torch::tensor(h.values, torch::kFloat32).view(h.shape);
}

const std::vector<std::string> kPrompts{"a watercolor painting of a lighthouse on a cliff at sunset",
                                        "a red fox and a red apple on a red table"};

void expectImageClose(const DiffusionResult& r, const std::string& run)
{
    EXPECT_TRUE(allClose(r.latents, xlReference().readFloat(run + ".latents"), 2e-3, 0)) << run;
    EXPECT_TRUE(allClose(r.image, xlReference().readFloat(run + ".image"), 5e-4, 0)) << run;
    const HostTensor rgb = xlReference().readFloat(run + ".image_uint8");
    ASSERT_EQ(r.rgb.size(), rgb.values.size());
    size_t off = 0;
    for (size_t i = 0; i < r.rgb.size(); ++i) {
        const double d = std::abs(double(r.rgb[i]) - rgb.values[i]);
        EXPECT_LE(d, 1.0) << run << " " << i;
        off += d > 0 ? 1 : 0;
    }
    EXPECT_LE(off, r.rgb.size() / 200) << run;
}

}  // namespace

TEST(Sdxl, UNetWithTextTimeConditioningEqualsDiffusers)
{
    const auto unet = UNetModel::load(xl() / "unet", torch::kCPU);
    EXPECT_EQ(unet->pooledWidth(), 16);
    EXPECT_EQ(unet->contextWidth(), 36);
    ASSERT_EQ(unet->crossAttentionLayers().size(), 15U);
    EXPECT_EQ(unet->crossAttentionLayers()[1].name, "up_blocks.0.attentions.0.transformer_blocks.1.attn2");
    EXPECT_EQ(unet->crossAttentionLayers()[9].name, "down_blocks.1.attentions.0.transformer_blocks.0.attn2");
    c10::InferenceMode guard;
    for (const std::string run : {"p0.euler", "p1.dpmpp2m_karras"}) {
        const torch::Tensor input = xlRef(run + ".model_input")[0];
        const double t = xlRef(run + ".timesteps")[0].item<double>();
        AddedConditioning added{xlRef(run + ".unet_call0.text_embeds"),
                                torch::cat({xlRef("add_time_ids"), xlRef("add_time_ids")})};
        torch::Tensor probs;
        const auto sink = [&](int layer, const torch::Tensor& p, int64_t, int64_t) {
            if (layer == 0) probs = p.clone();
        };
        const torch::Tensor out = unet->forward(torch::stack({input, input}), t,
                                                xlRef(run + ".unet_call0.encoder_hidden_states"), sink, added);
        EXPECT_TRUE(allClose(toHost(out), xlReference().readFloat(run + ".unet_out.call0"), 5e-5, 0)) << run;
        if (run == "p0.euler") {
            EXPECT_TRUE(allClose(toHost(probs), xlReference().readFloat("p0.euler.attn_probs.call0"), 1e-5, 0));
        }
    }
    EXPECT_THROW((void)unet->forward(torch::zeros({1, 4, 32, 32}), 1.0, torch::zeros({1, 77, 36})), Error);
}

TEST(Sdxl, WholeRunsHeatmapsAndEmbeddingsEqualDiffusersAndDaam)
{
    auto model = DiffusionModel::load(xl());
    EXPECT_TRUE(model->info().sdxl);
    EXPECT_EQ(model->info().textWidth, 36);
    for (const std::string run : {"p0.euler", "p1.dpmpp2m_karras"}) {
        const bool first = run[1] == '0';
        DiffusionOptions o;
        o.prompt = kPrompts[first ? 0 : 1];
        o.negativePrompt = first ? "" : "blurry, low quality";
        o.steps = 8;
        o.guidance = 5.0;
        o.scheduler = first ? "euler" : "DPM++ 2M Karras";
        o.heatmaps = first;
        o.initLatents = xlReference().readFloat("initial_noise");
        const DiffusionResult r = model->generate(o);
        const std::string p = first ? "p0" : "p1";
        EXPECT_EQ(r.tokenIds, xlReference().readInt64(p + ".tok1.input_ids"));
        EXPECT_TRUE(allClose(r.promptEmbeds, xlReference().readFloat(p + ".prompt_embeds"), 1e-5, 0)) << run;
        EXPECT_TRUE(allClose(r.pooledPromptEmbeds, xlReference().readFloat(p + ".pooled_prompt_embeds"), 1e-5, 0))
            << run;
        EXPECT_EQ(r.timesteps.size(), 8U);
        expectImageClose(r, run);
        if (!first) continue;
        const Heatmaps& h = r.heatmaps;
        ASSERT_EQ(h.layers.size(), 15U);
        EXPECT_EQ(h.rowTokens.size(), 13U);
        EXPECT_TRUE(allClose(h.tokenMaps, xlReference().readFloat("p0.euler.daam.token_maps"), 2e-5, 0));
        EXPECT_TRUE(allClose(h.wordMaps, xlReference().readFloat("p0.euler.daam.word_maps"), 2e-5, 0));
        ASSERT_EQ(h.words.size(), 9U);
        EXPECT_EQ(h.words[0].rows, (std::vector<int>{1, 5, 8}));
    }
    // A pipeline whose UNet lacks SDXL's conditioning is named, with the folder.
    TempDir dir;
    std::filesystem::copy(xl(), dir / "xl", std::filesystem::copy_options::recursive);
    std::filesystem::remove_all(dir / "xl/text_encoder_2");
    try {
        (void)DiffusionModel::load(dir / "xl");
        ADD_FAILURE() << "loaded without text_encoder_2";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("the text_encoder_2/ folder is missing"), std::string::npos) << e.what();
    }
}
