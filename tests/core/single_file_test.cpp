// Single-file LDM checkpoints (#16): the key map against the one derived by matching tensor values
// (tests/fixtures/sd-single-file), the parts loaded from the F16 file against what diffusers 0.21.2's
// from_single_file loaded (text 1e-5, UNet 5e-5, VAE 1e-4), the inferred configs against the
// diffusers folder's, --vae, and one clear message for each file Spyglass does not load.
#include "test_support.h"

#include "image/ldm_checkpoint.h"
#include "image/single_file_pipeline.h"
#include "models/torch_weights.h"
#include "spyglass/diffusion.h"
#include "spyglass/error.h"
#include "spyglass/safetensors.h"

#include <nlohmann/json.hpp>

#include <fstream>

using namespace spyglass::core;
using spyglass::test::allClose;
using spyglass::test::fixture;
using spyglass::test::TempDir;
using spyglass::test::writeFile;

namespace {

std::filesystem::path checkpoint()
{
    return fixture("sd-single-file/sd-tiny-random.safetensors");
}

const SafetensorsFile& singleReference()
{
    static const auto file = SafetensorsFile::open(fixture("sd-single-file/reference.safetensors"));
    return *file;
}

torch::Tensor singleRef(const std::string& name)
{
    const HostTensor h = singleReference().readFloat(name);
    return torch::tensor(h.values, torch::kFloat32).view(h.shape);
}

LdmTensorShapes shapesOfFile(const std::filesystem::path& path)
{
    LdmTensorShapes out;
    const auto file = SafetensorsFile::open(path);  // alive for the loop
    for (const auto& view : file->tensors()) out.emplace_back(view.name, view.shape);
    return out;
}

std::string errorOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

// A file holding `names` (tiny F32 tensors of the given shapes).
void writeKeys(const std::filesystem::path& path, const LdmTensorShapes& tensors)
{
    SafetensorsWriter w;
    for (const auto& [name, shape] : tensors) {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        w.addFloat(name, HostTensor{shape, std::vector<float>(static_cast<size_t>(n), 0.5F)});
    }
    w.write(path);
}

// Copies the tensors of `from` accepted by `keep` (renamed by `rename`) into `to`, bytes unchanged.
void copyTensors(const std::filesystem::path& from, const std::filesystem::path& to,
                 const std::function<std::optional<std::string>(const std::string&)>& rename)
{
    const auto file = SafetensorsFile::open(from);
    SafetensorsWriter w;
    for (const auto& view : file->tensors()) {
        const auto name = rename(view.name);
        if (!name) continue;
        w.add(*name, view.dtype, view.shape, std::vector<std::byte>(view.data, view.data + view.byteSize));
    }
    w.write(to);
}

}  // namespace

TEST(SingleFile, KeyMapEqualsTheValueMatchedMapAndConfigsEqualTheFolders)
{
    const LdmCheckpoint ckpt = mapLdmCheckpoint(shapesOfFile(checkpoint()), checkpoint().string());
    std::ifstream in(fixture("sd-single-file/sd-tiny-random.keymap.json"));
    const auto keymap = nlohmann::json::parse(in);
    size_t checked = 0;
    for (const auto& [component, part] : std::vector<std::pair<std::string, const LdmComponent*>>{
             {"unet.", &ckpt.unet}, {"vae.", &ckpt.vae}, {"text_encoder.", &ckpt.textEncoder}}) {
        for (const auto& [name, source] : part->keys) {
            ASSERT_TRUE(keymap.contains(source.key)) << source.key;
            std::string expected = keymap[source.key].get<std::string>();
            const bool squeeze = expected.find(" (squeeze") != std::string::npos;
            if (squeeze) expected = expected.substr(0, expected.find(' '));
            EXPECT_EQ(component + name, expected) << source.key;
            EXPECT_EQ(source.squeeze, squeeze) << source.key;
            ++checked;
        }
    }
    EXPECT_EQ(checked, keymap.size());  // every key of the file, none ignored
    EXPECT_TRUE(ckpt.ignored.empty());
    EXPECT_EQ(ckpt.family, "sd1");

    // The structure read from the shapes is the folder's config.
    const auto folder = [](const std::string& part) {
        std::ifstream f(fixture("sd-tiny-random/" + part + "/config.json"));
        return nlohmann::json::parse(f);
    };
    const auto unet = folder("unet");
    for (const char* key : {"block_out_channels", "down_block_types", "up_block_types", "layers_per_block",
                            "cross_attention_dim", "use_linear_projection", "in_channels", "out_channels",
                            "attention_head_dim"})
        EXPECT_EQ(ckpt.unet.config[key], unet[key]) << key;
    EXPECT_EQ(ckpt.unet.config["transformer_layers_per_block"], nlohmann::json({1, 1}));
    const auto vae = folder("vae");
    for (const char* key :
         {"block_out_channels", "layers_per_block", "latent_channels", "out_channels", "in_channels", "scaling_factor"})
        EXPECT_EQ(ckpt.vae.config[key], vae[key]) << key;
    const auto text = folder("text_encoder");
    for (const char* key :
         {"hidden_size", "vocab_size", "max_position_embeddings", "num_hidden_layers", "intermediate_size", "hidden_act"})
        EXPECT_EQ(ckpt.textEncoder.config[key], text[key]) << key;
    EXPECT_FALSE(ckpt.textEncoder.config.contains("num_attention_heads"));  // 32 wide: not CLIP's 64-wide heads
}

TEST(SingleFile, PartsLoadedFromTheF16FileEqualDiffusersFromSingleFile)
{
    DiffusionLoadOptions options;
    options.configDir = fixture("sd-tiny-random");  // the heads a 32-wide text encoder cannot tell
    PipelineParts parts = loadSingleFilePipeline(checkpoint(), options, torch::kCPU);
    c10::InferenceMode guard;
    const auto ids = singleReference().readInt64("sd1.text_encoder.input_ids");
    std::vector<torch::Tensor> hidden;
    const torch::Tensor text = parts.text->forward(torch::tensor(ids).view({1, -1}), &hidden);
    EXPECT_TRUE(allClose(toHost(text), singleReference().readFloat("sd1.text_encoder.output0"), 1e-5, 0));
    // A1111's clip skip 2: transformers' hidden state before the last layer through the final norm.
    const auto file = SafetensorsFile::open(checkpoint());
    const auto normWeight = file->readFloat("cond_stage_model.transformer.text_model.final_layer_norm.weight");
    const auto normBias = file->readFloat("cond_stage_model.transformer.text_model.final_layer_norm.bias");
    const torch::Tensor skipped = torch::layer_norm(singleRef("sd1.text_encoder.hidden_states.1"), {32},
                                                    torch::tensor(normWeight.values), torch::tensor(normBias.values), 1e-5);
    EXPECT_TRUE(allClose(toHost(parts.text->forward(torch::tensor(ids).view({1, -1}), nullptr, 1)), toHost(skipped), 1e-5, 0));
    EXPECT_THROW((void)parts.text->forward(torch::tensor(ids).view({1, -1}), nullptr, 2), Error);
    const torch::Tensor out = parts.unet->forward(singleRef("sd1.unet.sample"),
                                                  static_cast<double>(singleReference().readInt64("sd1.unet.timestep")[0]),
                                                  singleRef("sd1.unet.encoder_hidden_states"), {});
    EXPECT_TRUE(allClose(toHost(out), singleReference().readFloat("sd1.unet.out"), 5e-5, 0));
    const torch::Tensor image = parts.vae->decode(singleRef("sd1.vae.z"));
    EXPECT_TRUE(allClose(toHost(image), singleReference().readFloat("sd1.vae.decode"), 1e-4, 0));
    EXPECT_EQ(parts.schedulerConfig->string("_class_name", ""), "PNDMScheduler");

    // Without a companion folder: Spyglass's own CLIP tokenizer and SD 1.x's scheduler; the 32-wide
    // text encoder's heads are asked for by name.
    EXPECT_FALSE(shippedClipTokenizer().empty());
    const std::string heads = errorOf([&] { (void)DiffusionModel::load(checkpoint()); });
    EXPECT_NE(heads.find(checkpoint().string() + ": the text encoder is 32 wide"), std::string::npos) << heads;
    EXPECT_NE(heads.find("num_attention_heads"), std::string::npos) << heads;

    // The whole pipeline from the file generates; a separate VAE file (LDM keys, as A1111's VAE
    // files) replaces the checkpoint's and supplies it when the checkpoint has none.
    TempDir dir;
    copyTensors(checkpoint(), dir / "vae.safetensors", [](const std::string& n) -> std::optional<std::string> {
        if (n.rfind("first_stage_model.", 0) != 0) return std::nullopt;
        return n.substr(18);
    });
    copyTensors(checkpoint(), dir / "no-vae.safetensors", [](const std::string& n) -> std::optional<std::string> {
        if (n.rfind("first_stage_model.", 0) == 0) return std::nullopt;
        return n;
    });
    const std::string noVae = errorOf([&] { (void)DiffusionModel::load(dir / "no-vae.safetensors", "cpu", options); });
    EXPECT_NE(noVae.find("no-vae.safetensors: the checkpoint has no VAE (no 'first_stage_model.' keys); give one with --vae"),
              std::string::npos)
        << noVae;
    options.vaePath = dir / "vae.safetensors";
    auto model = DiffusionModel::load(dir / "no-vae.safetensors", "cpu", options);
    EXPECT_EQ(model->info().vaeScaleFactor, 2);
    DiffusionOptions o;
    o.prompt = "a photo of a hand";
    o.steps = 2;
    o.width = o.height = 64;
    o.heatmaps = true;
    const DiffusionResult r = model->generate(o);
    EXPECT_EQ(r.rgb.size(), 64U * 64U * 3U);
    EXPECT_EQ(r.heatmaps.layers.size(), 10U);
    EXPECT_EQ(r.scheduler, "PNDMScheduler");
}

TEST(SingleFile, FilesSpyglassDoesNotLoadGiveOneClearLine)
{
    TempDir dir;
    writeFile(dir / "model.ckpt", "PK\x03\x04 pickle");
    EXPECT_NE(errorOf([&] { (void)DiffusionModel::load(dir / "model.ckpt"); }).find("a pickle checkpoint; Spyglass never unpickles"),
              std::string::npos);
    const auto base = shapesOfFile(checkpoint());
    auto variant = [&](const std::string& name, const LdmTensorShapes& extra,
                       const std::function<bool(const std::string&)>& drop = {}) {
        LdmTensorShapes t;
        for (const auto& e : base)
            if (!drop || !drop(e.first)) t.push_back(e);
        t.insert(t.end(), extra.begin(), extra.end());
        return errorOf([&] { (void)mapLdmCheckpoint(t, name); });
    };
    EXPECT_NE(variant("xl.safetensors", {{"conditioner.embedders.1.model.ln_final.weight", {8}}})
                  .find("xl.safetensors: an SDXL checkpoint"),
              std::string::npos);
    EXPECT_NE(variant("sd2.safetensors", {{"cond_stage_model.model.ln_final.weight", {8}}})
                  .find("sd2.safetensors: a Stable Diffusion 2.x checkpoint"),
              std::string::npos);
    EXPECT_NE(variant("inpaint.safetensors", {{"model.diffusion_model.input_blocks.0.0.weight", {32, 9, 3, 3}}},
                      [](const std::string& k) { return k == "model.diffusion_model.input_blocks.0.0.weight"; })
                  .find("inpaint.safetensors: an inpainting checkpoint"),
              std::string::npos);
    EXPECT_NE(variant("odd.safetensors", {{"model.diffusion_model.extra.weight", {1}}})
                  .find("odd.safetensors: key 'model.diffusion_model.extra.weight' is not a part of an SD 1.x UNet"),
              std::string::npos);
    EXPECT_NE(variant("stray.safetensors", {{"something_else.weight", {1}}})
                  .find("key 'something_else.weight' belongs to no part Spyglass knows"),
              std::string::npos);
    EXPECT_NE(variant("nounet.safetensors", {},
                      [](const std::string& k) { return k.rfind("model.diffusion_model.", 0) == 0; })
                  .find("not a Stable Diffusion checkpoint in the LDM layout"),
              std::string::npos);
    EXPECT_NE(variant("gap.safetensors", {},
                      [](const std::string& k) { return k.rfind("model.diffusion_model.input_blocks.2.", 0) == 0; })
                  .find("key 'model.diffusion_model.input_blocks.2' is missing"),
              std::string::npos);
    // Schedule buffers and EMA copies are ignored, and listed.
    LdmTensorShapes withBuffers = base;
    withBuffers.push_back({"alphas_cumprod", {1000}});
    withBuffers.push_back({"model_ema.decay", {}});
    EXPECT_EQ(mapLdmCheckpoint(withBuffers, "x").ignored.size(), 2U);
    // A tensor missing from the file names the file and the diffusers tensor.
    writeKeys(dir / "tiny.safetensors", {{"model.diffusion_model.input_blocks.0.0.weight", {4, 4, 3, 3}}});
    EXPECT_NE(errorOf([&] { (void)mapLdmCheckpoint(shapesOfFile(dir / "tiny.safetensors"), "tiny"); }).find("tiny: "),
              std::string::npos);
    writeFile(dir / "image.png", "not a model");
    EXPECT_NE(errorOf([&] { (void)DiffusionModel::load(dir / "image.png"); })
                  .find("is not a folder or a .safetensors checkpoint"),
              std::string::npos);
}
