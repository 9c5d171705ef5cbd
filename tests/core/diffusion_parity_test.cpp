// The Stable Diffusion engine against diffusers 0.21.2 + transformers + DAAM 0.2.0 on the tiny
// random pipeline (tests/fixtures/sd-tiny-random, tolerances from its README): CLIP ids exact,
// text encoder 1e-5, UNet 5e-5, cross-attention probabilities 1e-5, one scheduler step
// 1e-5·max(1, |x|), VAE 1e-4; whole runs (DDIM, Euler, PNDM): latents 2e-3, image 5e-4, uint8
// off by ≤ 1 on ≤ 0.5%, DAAM maps 2e-5 and image-size word maps 2e-4 (#6).
#include "test_support.h"

#include "image/clip_text_encoder.h"
#include "image/clip_tokenizer.h"
#include "image/euler_scheduler.h"
#include "image/scheduler.h"
#include "image/unet_model.h"
#include "image/vae_decoder.h"
#include "models/torch_weights.h"
#include "spyglass/diffusion.h"
#include "spyglass/error.h"
#include "spyglass/safetensors.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>

using namespace spyglass::core;
using spyglass::test::allClose;
using spyglass::test::fixture;
using spyglass::test::TempDir;

namespace {

const std::string kPrompt = "a photo of a hand, masterpiece, best quality, detailed fingers";

std::filesystem::path sd()
{
    return fixture("sd-tiny-random");
}

const SafetensorsFile& reference()
{
    static const auto file = SafetensorsFile::open(sd() / "reference.safetensors");
    return *file;
}

HostTensor refData(const std::string& name)
{
    return reference().readFloat(name);
}

torch::Tensor refTensor(const std::string& name)
{
    const HostTensor h = refData(name);
    return torch::tensor(h.values, torch::kFloat32).view(h.shape);
}

// Entry `index` of the first axis.
HostTensor slice(const HostTensor& t, int64_t index)
{
    HostTensor out;
    out.shape.assign(t.shape.begin() + 1, t.shape.end());
    const auto n = static_cast<size_t>(out.numel());
    out.values.assign(t.values.begin() + static_cast<std::ptrdiff_t>(n * static_cast<size_t>(index)),
                      t.values.begin() + static_cast<std::ptrdiff_t>(n * static_cast<size_t>(index + 1)));
    return out;
}

double maxAbs(const HostTensor& t)
{
    double m = 0;
    for (float v : t.values) m = std::max(m, std::abs(double(v)));
    return m;
}

HeatmapFilter layersOnly(std::vector<int> layers)
{
    HeatmapFilter f;
    f.layers = std::move(layers);
    return f;
}

HeatmapFilter callRange(int first, int end)
{
    HeatmapFilter f;
    f.firstCall = first;
    f.endCall = end;
    return f;
}

std::vector<int64_t> padded(std::vector<int64_t> ids, int64_t pad)
{
    ids.resize(77, pad);
    return ids;
}

}  // namespace

TEST(ClipTokenizer, EveryReferenceCaseExact)
{
    const auto tok = ClipTokenizer::load(sd() / "tokenizer");
    std::ifstream in(fixture("clip-tokenizer/cases.jsonl"));
    std::string line;
    int cases = 0;
    while (std::getline(in, line)) {
        const auto c = nlohmann::json::parse(line);
        std::vector<int> ids{tok->startId()};
        for (int id : tok->encode(c["text"].get<std::string>()).ids) ids.push_back(id);
        ids.push_back(tok->endId());
        EXPECT_EQ(ids, c["ids"].get<std::vector<int>>()) << c["text"];
        ++cases;
    }
    EXPECT_EQ(cases, 84);
    EXPECT_EQ(tok->startId(), 49406);
    EXPECT_EQ(tok->endId(), 49407);
    EXPECT_EQ(tok->padId(), 49407);  // SD 1.x pads with <|endoftext|>
    const ClipEncoding e = tok->encode("  A Photo of\tan 8K  hand!!! ");
    EXPECT_EQ(e.text, "a photo of an 8k hand!!!");
    ASSERT_EQ(e.ids.size(), e.offsets.size());
    EXPECT_EQ(tok->tokenText(e.ids[0]), "a");
    EXPECT_EQ(e.text.substr(e.offsets.back().first, e.offsets.back().second - e.offsets.back().first), "!!!");
}

TEST(ClipTextEncoder, EmbeddingsEqualTransformers)
{
    const auto tok = ClipTokenizer::load(sd() / "tokenizer");
    std::vector<int64_t> ids{tok->startId()};
    for (int id : tok->encode(kPrompt).ids) ids.push_back(id);
    ids.push_back(tok->endId());
    EXPECT_EQ(padded(ids, tok->padId()), reference().readInt64("prompt.input_ids"));
    EXPECT_EQ(padded({49406, 49407}, 49407), reference().readInt64("negative.input_ids"));

    const auto text = ClipTextEncoder::load(sd() / "text_encoder", torch::kCPU);
    c10::InferenceMode guard;
    std::vector<torch::Tensor> hidden;
    const auto out = text->forward(torch::tensor(padded(ids, 49407)).view({1, 77}), &hidden);
    EXPECT_TRUE(allClose(toHost(out), refData("prompt.embeds"), 1e-5, 0));
    ASSERT_EQ(hidden.size(), 3U);
    for (size_t i = 0; i < hidden.size(); ++i)
        EXPECT_TRUE(allClose(toHost(hidden[i]), refData("prompt.text_hidden_states." + std::to_string(i)), 1e-5, 0))
            << i;
    const auto negative = text->forward(torch::tensor(padded({49406, 49407}, 49407)).view({1, 77}));
    EXPECT_TRUE(allClose(toHost(negative), refData("negative.embeds"), 1e-5, 0));
}

TEST(UNet, FirstCallOfEachRunEqualsDiffusers)
{
    const auto unet = UNetModel::load(sd() / "unet", torch::kCPU);
    ASSERT_EQ(unet->crossAttentionLayers().size(), 10U);
    EXPECT_EQ(unet->crossAttentionLayers()[0].name, "up_blocks.0.attentions.0.transformer_blocks.0.attn2");
    EXPECT_EQ(unet->crossAttentionLayers()[6].name, "down_blocks.0.attentions.0.transformer_blocks.0.attn2");
    c10::InferenceMode guard;
    const torch::Tensor context = torch::cat({refTensor("negative.embeds"), refTensor("prompt.embeds")}, 0);
    for (const std::string run : {"ddim", "euler", "pndm"}) {
        const torch::Tensor input = run == "euler" ? refTensor("euler.model_input")[0] : refTensor(run + ".latents")[0];
        const double t = refTensor(run + ".timesteps")[0].item<double>();
        torch::Tensor probs;
        const auto sink = [&](int layer, const torch::Tensor& p, int64_t h, int64_t w) {
            if (layer == 0) {
                probs = p.clone();
                EXPECT_EQ(h * w, 256);
            }
        };
        const torch::Tensor out = unet->forward(torch::stack({input, input}), t, context, sink);
        EXPECT_TRUE(allClose(toHost(out), refData(run + ".unet_out.call0"), 5e-5, 0)) << run;
        if (run == "euler") {
            EXPECT_TRUE(allClose(toHost(probs), refData("euler.attn_probs.call0"), 1e-5, 0));
        }
    }
}

TEST(Schedulers, TimestepsAndEveryStepEqualDiffusers)
{
    for (const std::string run : {"ddim", "euler", "pndm"}) {
        const ConfigReader config(sd() / "schedulers" / run / "scheduler_config.json");
        auto scheduler = Scheduler::fromConfig(config);
        EXPECT_EQ(scheduler->shortName(), run);
        scheduler->setTimesteps(10);
        const HostTensor timesteps = run == "euler" ? refData("euler.timesteps") : HostTensor{};
        const auto expected =
            run == "euler" ? std::vector<double>(timesteps.values.begin(), timesteps.values.end()) : [&] {
                const auto ints = reference().readInt64(run + ".timesteps");
                return std::vector<double>(ints.begin(), ints.end());
            }();
        EXPECT_EQ(scheduler->timesteps(), expected) << run;
        if (run == "euler") {
            const auto& euler = dynamic_cast<const EulerScheduler&>(*scheduler);
            EXPECT_TRUE(allClose(toHost(euler.sigmas()), refData("euler.sigmas"), 0, 1e-7));
            EXPECT_NEAR(scheduler->initNoiseSigma(), 14.614645, 1e-5);
        }
        const torch::Tensor latents = refTensor(run + ".latents");
        const torch::Tensor eps = refTensor(run + ".noise_pred");
        at::Generator generator = at::detail::createCPUGenerator(0);
        for (int64_t k = 0; k < eps.size(0); ++k) {
            const torch::Tensor next =
                scheduler->step(eps[k].unsqueeze(0), static_cast<size_t>(k), latents[k].unsqueeze(0), generator);
            const HostTensor expectedNext = toHost(latents[k + 1].unsqueeze(0));
            EXPECT_TRUE(allClose(toHost(next), expectedNext, 1e-5 * std::max(1.0, maxAbs(expectedNext)), 0))
                << run << " step " << k;
        }
    }
}

TEST(Vae, DecodeEqualsDiffusers)
{
    const auto vae = VaeDecoder::load(sd() / "vae", torch::kCPU);
    EXPECT_EQ(vae->scaleFactor(), 2);
    EXPECT_FLOAT_EQ(static_cast<float>(vae->scalingFactor()), 0.18215F);
    c10::InferenceMode guard;
    for (const std::string run : {"ddim", "euler"}) {
        const torch::Tensor latents = refTensor(run + ".latents");
        const torch::Tensor image = vae->decode(latents[latents.size(0) - 1].unsqueeze(0) / vae->scalingFactor());
        EXPECT_TRUE(allClose(toHost(image), refData(run + ".image"), 1e-4, 0)) << run;
    }
}

class DiffusionRun : public ::testing::TestWithParam<std::string> {};

TEST_P(DiffusionRun, WholePipelineAndHeatmapsEqualDiffusersAndDaam)
{
    const std::string run = GetParam();
    auto model = DiffusionModel::load(sd());
    DiffusionOptions o;
    o.prompt = kPrompt;
    o.steps = 10;
    o.guidance = 7.5;
    o.schedulerConfig = sd() / "schedulers" / run / "scheduler_config.json";
    o.initLatents = refData("initial_noise");
    std::vector<int> done;
    const DiffusionResult r = model->generate(o, [&](const Progress& p) {
        if (p.stage == "denoising") done.push_back(p.done);
        return true;
    });
    const size_t calls = run == "pndm" ? 11 : 10;
    EXPECT_EQ(done.size(), calls + 1);
    EXPECT_EQ(r.width, 64);
    EXPECT_TRUE(allClose(r.promptEmbeds, refData("prompt.embeds"), 1e-5, 0));
    EXPECT_EQ(r.tokenIds, reference().readInt64("prompt.input_ids"));
    EXPECT_TRUE(allClose(r.latents, refData(run + ".latents"), 2e-3, 0)) << run;
    EXPECT_TRUE(allClose(r.image, refData(run + ".image"), 5e-4, 0)) << run;
    const auto expectedRgb = reference().readFloat(run + ".image_uint8");
    ASSERT_EQ(r.rgb.size(), expectedRgb.values.size());
    size_t off = 0;
    for (size_t i = 0; i < r.rgb.size(); ++i) {
        const double d = std::abs(double(r.rgb[i]) - expectedRgb.values[i]);
        EXPECT_LE(d, 1.0) << i;
        off += d > 0 ? 1 : 0;
    }
    EXPECT_LE(off, r.rgb.size() / 200) << run;

    const Heatmaps& h = r.heatmaps;
    ASSERT_EQ(h.layers.size(), 10U);
    EXPECT_EQ(h.rowTokens.size(), 15U);
    EXPECT_EQ(h.rowTokens[1], "a");
    EXPECT_EQ(h.callMaps.size(), calls);
    EXPECT_TRUE(allClose(h.tokenMaps, refData(run + ".daam.token_maps"), 2e-5, 0)) << run;
    std::vector<std::string> words;
    for (const auto& w : h.words) words.push_back(w.word);
    EXPECT_EQ(words, (std::vector<std::string>{"a", "photo", "of", "hand", ",", "masterpiece", "best", "quality",
                                               "detailed", "fingers"}));
    EXPECT_EQ(h.words[0].rows, (std::vector<int>{1, 4}));
    EXPECT_EQ(h.words[4].rows, (std::vector<int>{6, 8, 11}));
    EXPECT_TRUE(allClose(h.wordMaps, refData(run + ".daam.word_maps"), 2e-5, 0)) << run;
    if (run != "euler") return;
    EXPECT_TRUE(allClose(h.wordMapsImage, refData("euler.daam.word_maps_image"), 2e-4, 0));
    EXPECT_TRUE(
        allClose(resizeMaps(h.wordMaps, 64, 64, false), refData("euler.daam.word_maps_image_absolute"), 2e-5, 0));
    const HostTensor perLayer = refData("euler.daam.per_layer_token_maps");
    for (int l = 0; l < 10; ++l)
        EXPECT_TRUE(allClose(aggregateHeatmaps(h, layersOnly({l})), slice(perLayer, l), 2e-5, 0)) << "layer " << l;
    EXPECT_TRUE(
        allClose(aggregateHeatmaps(h, layersOnly({3, 4, 5, 6, 7})), refData("euler.daam.factor1_token_maps"), 2e-5, 0));
    EXPECT_TRUE(
        allClose(aggregateHeatmaps(h, layersOnly({0, 1, 2, 8, 9})), refData("euler.daam.factor2_token_maps"), 2e-5, 0));
    // A step range uses the per-call maps; the whole range of them stays close to the exact maps.
    const HostTensor firstHalf = aggregateHeatmaps(h, callRange(0, 5));
    EXPECT_EQ(firstHalf.shape, (std::vector<int64_t>{15, 32, 32}));
    EXPECT_THROW((void)aggregateHeatmaps(h, callRange(4, 4)), Error);
}

INSTANTIATE_TEST_SUITE_P(Runs, DiffusionRun, ::testing::Values("ddim", "euler", "pndm"));

TEST(Diffusion, SeedGivesDiffusersInitialNoise)
{
    auto model = DiffusionModel::load(sd());
    DiffusionOptions o;
    o.prompt = "a red circle";
    o.steps = 1;
    o.seed = 0;
    o.scheduler = "ddim";
    o.heatmaps = false;
    const DiffusionResult r = model->generate(o);
    EXPECT_TRUE(
        allClose(slice(r.latents, 0), slice(refData("initial_noise"), 0), 0, 0));  // init_noise_sigma 1 for DDIM
    EXPECT_TRUE(r.heatmaps.layers.empty());
    EXPECT_EQ(r.scheduler, "DDIMScheduler");
}

namespace {

// Rewrites every tensor of `from` into `to`, letting `change` rename/reshape/convert each.
void rewriteWeights(const std::filesystem::path& from, const std::filesystem::path& to,
                    const std::function<void(const std::string&, HostTensor&, DType&)>& change)
{
    const auto file = SafetensorsFile::open(from);
    SafetensorsWriter w;
    for (const auto& view : file->tensors()) {
        HostTensor t = file->readFloat(view.name);
        DType dtype = DType::F32;
        change(view.name, t, dtype);
        w.addFloat(view.name, t, dtype);
    }
    w.write(to);
}

}  // namespace

TEST(UNet, Sd2StyleLinearProjectionsAndHeadListsGiveTheSameOutput)
{
    // SD 2.x uses Linear proj_in/proj_out and per-block head lists: a 1x1 convolution is the same
    // linear map, so the converted UNet must reproduce diffusers' output.
    TempDir dir;
    std::filesystem::create_directories(dir / "unet");
    nlohmann::json config = nlohmann::json::parse(std::ifstream(sd() / "unet/config.json"));
    config["use_linear_projection"] = true;
    config["attention_head_dim"] = nullptr;
    config["num_attention_heads"] = {8, 8};
    std::ofstream(dir / "unet/config.json") << config.dump();
    rewriteWeights(sd() / "unet/diffusion_pytorch_model.safetensors", dir / "unet/diffusion_pytorch_model.safetensors",
                   [](const std::string& name, HostTensor& t, DType& dtype) {
                       if ((name.find("proj_in.weight") != std::string::npos ||
                            name.find("proj_out.weight") != std::string::npos) &&
                           t.shape.size() == 4)
                           t.shape = {t.shape[0], t.shape[1]};
                   });
    const auto unet = UNetModel::load(dir / "unet", torch::kCPU);
    c10::InferenceMode guard;
    const torch::Tensor context = torch::cat({refTensor("negative.embeds"), refTensor("prompt.embeds")}, 0);
    const torch::Tensor input = refTensor("ddim.latents")[0];
    const torch::Tensor out =
        unet->forward(torch::stack({input, input}), refTensor("ddim.timesteps")[0].item<double>(), context);
    EXPECT_TRUE(allClose(toHost(out), refData("ddim.unet_out.call0"), 5e-5, 0));
}

TEST(Diffusion, HalfPrecisionWeightsLoad)
{
    // F16 and BF16 files load (converted to float32); the text encoder stays close to F32.
    for (const DType storeAs : {DType::F16, DType::BF16}) {
        TempDir dir;
        std::filesystem::copy(sd(), dir / "sd", std::filesystem::copy_options::recursive);
        rewriteWeights(sd() / "text_encoder/model.safetensors", dir / "sd/text_encoder/model.safetensors",
                       [&](const std::string&, HostTensor&, DType& dtype) { dtype = storeAs; });
        rewriteWeights(sd() / "unet/diffusion_pytorch_model.safetensors",
                       dir / "sd/unet/diffusion_pytorch_model.safetensors",
                       [&](const std::string&, HostTensor&, DType& dtype) { dtype = storeAs; });
        auto model = DiffusionModel::load(dir / "sd");
        DiffusionOptions o;
        o.prompt = kPrompt;
        o.steps = 2;
        o.scheduler = "ddim";
        o.heatmaps = false;
        const DiffusionResult r = model->generate(o);
        EXPECT_TRUE(allClose(r.promptEmbeds, refData("prompt.embeds"), storeAs == DType::F16 ? 0.02 : 0.1, 0))
            << dtypeName(storeAs);
    }
}
