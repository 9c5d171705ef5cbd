// Single-file LDM checkpoints (#16): the key map against the one derived by matching tensor values
// (tests/fixtures/sd-single-file), the parts loaded from the F16 file against what diffusers 0.21.2's
// from_single_file loaded (text 1e-5, UNet 5e-5, VAE 1e-4), the inferred configs against the
// diffusers folder's, --vae, and one clear message for each file Spyglass does not load.
#include "test_support.h"

#include "image/ldm_checkpoint.h"
#include "image/single_file_pipeline.h"
#include "image/unet_model.h"
#include "models/torch_weights.h"
#include "spyglass/diffusion.h"
#include "spyglass/error.h"
#include "spyglass/safetensors.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

using namespace spyglass::core;
using spyglass::test::allClose;
using spyglass::test::errorOf;
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

// Every key of `ckpt` against the key map derived by matching tensor values ("component.name",
// "+ (squeeze…)", "(transpose)", "cat(a; b; c, dim=0)" for stacked rows); returns the keys checked.
size_t expectKeyMap(const LdmCheckpoint& ckpt, const std::filesystem::path& keymapPath)
{
    std::ifstream in(keymapPath);
    const auto keymap = nlohmann::json::parse(in);
    std::set<std::string> seen;
    for (const auto& [component, part] :
         std::vector<std::pair<std::string, const LdmComponent*>>{{"unet.", &ckpt.unet},
                                                                  {"vae.", &ckpt.vae},
                                                                  {"text_encoder.", &ckpt.textEncoder},
                                                                  {"text_encoder_2.", &ckpt.textEncoder2}}) {
        for (const auto& [name, source] : part->keys) {
            EXPECT_TRUE(keymap.contains(source.key)) << source.key;
            if (!keymap.contains(source.key)) continue;
            std::string expected = keymap[source.key].get<std::string>();
            if (expected.rfind("cat(", 0) == 0) {
                std::vector<std::string> parts;
                std::string rest = expected.substr(4, expected.find(", dim=0)") - 4);
                for (size_t at; (at = rest.find("; ")) != std::string::npos; rest = rest.substr(at + 2))
                    parts.push_back(rest.substr(0, at));
                parts.push_back(rest);
                EXPECT_EQ(parts.size(), 3U) << expected;
                EXPECT_GE(source.slice, 0) << source.key;
                if (parts.size() == 3 && source.slice >= 0 && source.slice < 3)
                    EXPECT_EQ(component + name, parts[static_cast<size_t>(source.slice)]) << source.key;
            } else {
                const bool squeeze = expected.find(" (squeeze") != std::string::npos;
                const bool transpose = expected.find(" (transpose)") != std::string::npos;
                if (squeeze || transpose) expected = expected.substr(0, expected.find(' '));
                EXPECT_EQ(component + name, expected) << source.key;
                EXPECT_EQ(source.squeeze, squeeze) << source.key;
                EXPECT_EQ(source.transpose, transpose) << source.key;
            }
            seen.insert(source.key);
        }
    }
    return seen.size() == keymap.size() ? keymap.size() : seen.size();
}

}  // namespace

TEST(SingleFile, SdxlMapsAndLoadsAsDiffusersLoadedIt)
{
    const auto file = fixture("sd-single-file/sdxl-tiny-random.safetensors");
    const LdmCheckpoint ckpt = mapLdmCheckpoint(shapesOfFile(file), file.string());
    EXPECT_EQ(ckpt.family, "sdxl");
    EXPECT_EQ(expectKeyMap(ckpt, fixture("sd-single-file/sdxl-tiny-random.keymap.json")), 813U);
    EXPECT_EQ(ckpt.unet.config["addition_time_embed_dim"], 8);
    EXPECT_EQ(ckpt.unet.config["projection_class_embeddings_input_dim"], 64);
    EXPECT_EQ(ckpt.unet.config["transformer_layers_per_block"], nlohmann::json({1, 1, 2}));
    EXPECT_EQ(ckpt.unet.config["down_block_types"],
              nlohmann::json({"DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"}));
    EXPECT_EQ(ckpt.vae.config["scaling_factor"], 0.13025);
    EXPECT_EQ(ckpt.textEncoder2.config["projection_dim"], 16);
    EXPECT_EQ(ckpt.textEncoder2.config["hidden_act"], "gelu");

    DiffusionLoadOptions options;
    options.configDir = fixture("sdxl-tiny-random");
    PipelineParts parts = loadSingleFilePipeline(file, options, torch::kCPU);
    c10::InferenceMode guard;
    const auto ids1 = singleReference().readInt64("sdxl.text_encoder.input_ids");
    EXPECT_TRUE(allClose(toHost(parts.text->forward(torch::tensor(ids1).view({1, -1}))),
                         singleReference().readFloat("sdxl.text_encoder.output0"), 1e-5, 0));
    const torch::Tensor ids2 =
        torch::tensor(singleReference().readInt64("sdxl.text_encoder_2.input_ids")).view({1, -1});
    std::vector<torch::Tensor> hidden;
    const torch::Tensor last = parts.text2->forward(ids2, &hidden);
    EXPECT_TRUE(
        allClose(toHost(hidden[2]), singleReference().readFloat("sdxl.text_encoder_2.hidden_states.2"), 1e-5, 0));
    EXPECT_TRUE(allClose(toHost(parts.text2->pooled(last, ids2)),
                         singleReference().readFloat("sdxl.text_encoder_2.output0"), 1e-5, 0));
    EXPECT_EQ(parts.tokenizer2->padId(), 0);  // "!"
    const AddedConditioning added{singleRef("sdxl.unet.text_embeds"), singleRef("sdxl.unet.time_ids")};
    const torch::Tensor out = parts.unet->forward(
        singleRef("sdxl.unet.sample"), static_cast<double>(singleReference().readInt64("sdxl.unet.timestep")[0]),
        singleRef("sdxl.unet.encoder_hidden_states"), {}, added);
    EXPECT_TRUE(allClose(toHost(out), singleReference().readFloat("sdxl.unet.out"), 5e-5, 0));
    EXPECT_TRUE(allClose(toHost(parts.vae->decode(singleRef("sdxl.vae.z"))),
                         singleReference().readFloat("sdxl.vae.decode"), 1e-4, 0));
    EXPECT_EQ(parts.schedulerConfig->string("_class_name", ""), "EulerDiscreteScheduler");

    auto model = DiffusionModel::load(file, "cpu", options);
    EXPECT_TRUE(model->info().sdxl);
    DiffusionOptions o;
    o.prompt = "a lighthouse";
    o.steps = 2;
    o.width = o.height = 64;
    const DiffusionResult r = model->generate(o);
    EXPECT_EQ(r.heatmaps.layers.size(), 15U);
    EXPECT_EQ(r.pooledPromptEmbeds.shape, (std::vector<int64_t>{1, 16}));
}

TEST(SingleFile, KeyMapEqualsTheValueMatchedMapAndConfigsEqualTheFolders)
{
    const LdmCheckpoint ckpt = mapLdmCheckpoint(shapesOfFile(checkpoint()), checkpoint().string());
    EXPECT_EQ(expectKeyMap(ckpt, fixture("sd-single-file/sd-tiny-random.keymap.json")),
              594U);  // every key, none ignored
    EXPECT_TRUE(ckpt.ignored.empty());
    EXPECT_EQ(ckpt.family, "sd1");

    // The structure read from the shapes is the folder's config.
    const auto folder = [](const std::string& part) {
        std::ifstream f(fixture("sd-tiny-random/" + part + "/config.json"));
        return nlohmann::json::parse(f);
    };
    const auto unet = folder("unet");
    for (const char* key :
         {"block_out_channels", "down_block_types", "up_block_types", "layers_per_block", "cross_attention_dim",
          "use_linear_projection", "in_channels", "out_channels", "attention_head_dim"})
        EXPECT_EQ(ckpt.unet.config[key], unet[key]) << key;
    EXPECT_EQ(ckpt.unet.config["transformer_layers_per_block"], nlohmann::json({1, 1}));
    const auto vae = folder("vae");
    for (const char* key :
         {"block_out_channels", "layers_per_block", "latent_channels", "out_channels", "in_channels", "scaling_factor"})
        EXPECT_EQ(ckpt.vae.config[key], vae[key]) << key;
    const auto text = folder("text_encoder");
    for (const char* key : {"hidden_size", "vocab_size", "max_position_embeddings", "num_hidden_layers",
                            "intermediate_size", "hidden_act"})
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
    const torch::Tensor skipped =
        torch::layer_norm(singleRef("sd1.text_encoder.hidden_states.1"), {32}, torch::tensor(normWeight.values),
                          torch::tensor(normBias.values), 1e-5);
    EXPECT_TRUE(
        allClose(toHost(parts.text->forward(torch::tensor(ids).view({1, -1}), nullptr, 1)), toHost(skipped), 1e-5, 0));
    EXPECT_THROW((void)parts.text->forward(torch::tensor(ids).view({1, -1}), nullptr, 2), Error);
    const torch::Tensor out = parts.unet->forward(
        singleRef("sd1.unet.sample"), static_cast<double>(singleReference().readInt64("sd1.unet.timestep")[0]),
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
    EXPECT_NE(
        noVae.find("no-vae.safetensors: the checkpoint has no VAE (no 'first_stage_model.' keys); give one with --vae"),
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
    EXPECT_NE(errorOf([&] {
                  (void)DiffusionModel::load(dir / "model.ckpt");
              }).find("a pickle checkpoint; Spyglass never unpickles"),
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
                  .find("xl.safetensors: an SDXL checkpoint without its CLIP-L text encoder"),
              std::string::npos);
    EXPECT_NE(variant("refiner.safetensors", {{"conditioner.embedders.0.model.ln_final.weight", {8}}})
                  .find("refiner.safetensors: an SDXL refiner checkpoint"),
              std::string::npos);
    EXPECT_NE(variant("sd2.safetensors", {{"cond_stage_model.model.ln_final.weight", {8}}})
                  .find("sd2.safetensors: two text encoders"),
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
    EXPECT_NE(errorOf([&] {
                  (void)DiffusionModel::load(dir / "image.png");
              }).find("is not a folder or a .safetensors checkpoint"),
              std::string::npos);
}

// SD 2.x single files (#16): the tiny SD 1.x file rewritten the way SD 2's checkpoints hold their
// text encoder — OpenCLIP names under cond_stage_model.model (q, k, v stacked in in_proj), one more
// resblock after the last used one (NaN-filled: it must never be read) plus text_projection and
// logit_scale, as SD 2's penultimate-layer encoder and diffusers' 23-layer CLIPTextModel ignore
// them. With the folder's configs as companion it must give bit for bit the run of the SD 1.x file;
// without one it gets SD 2's defaults (v-prediction, "!" padding, 64-wide UNet heads, 768 pixels).
TEST(SingleFile, Sd2CheckpointsReadTheOpenClipEncoderAtItsPenultimateLayer)
{
    TempDir dir;
    const auto sd1 = SafetensorsFile::open(checkpoint());
    SafetensorsWriter w;
    const std::string clip = "cond_stage_model.transformer.text_model.", open = "cond_stage_model.model.";
    const std::vector<std::pair<std::string, std::string>> renames{
        {"embeddings.token_embedding.weight", "token_embedding.weight"},
        {"embeddings.position_embedding.weight", "positional_embedding"},
        {"final_layer_norm.", "ln_final."}};
    const std::vector<std::pair<std::string, std::string>> layerRenames{{"layer_norm1.", "ln_1."},
                                                                        {"layer_norm2.", "ln_2."},
                                                                        {"self_attn.out_proj.", "attn.out_proj."},
                                                                        {"mlp.fc1.", "mlp.c_fc."},
                                                                        {"mlp.fc2.", "mlp.c_proj."}};
    int layers = 0;
    for (const auto& view : sd1->tensors()) {
        if (view.name.rfind(clip, 0) != 0) {
            w.addFloat(view.name, sd1->readFloat(view.name));
            continue;
        }
        const std::string rest = view.name.substr(clip.size());
        std::string target;
        for (const auto& [from, to] : renames)
            if (rest.rfind(from, 0) == 0) target = to + rest.substr(from.size());
        if (rest.rfind("encoder.layers.", 0) == 0) {
            const size_t dot = rest.find('.', 15);
            const std::string layer = rest.substr(15, dot - 15), part = rest.substr(dot + 1);
            layers = std::max(layers, std::stoi(layer) + 1);
            const std::string base = "transformer.resblocks." + layer + ".";
            for (const auto& [from, to] : layerRenames)
                if (part.rfind(from, 0) == 0) target = base + to + part.substr(from.size());
            if (part.rfind("self_attn.q_proj.", 0) == 0) {
                const std::string what = part.substr(17);  // weight | bias
                HostTensor stacked;
                for (const char* p : {"q_proj.", "k_proj.", "v_proj."}) {
                    const HostTensor t = sd1->readFloat(clip + "encoder.layers." + layer + ".self_attn." + p + what);
                    stacked.shape = t.shape;
                    stacked.values.insert(stacked.values.end(), t.values.begin(), t.values.end());
                }
                stacked.shape[0] *= 3;
                w.addFloat(open + base + "attn.in_proj_" + what, stacked);
                continue;
            }
            if (part.rfind("self_attn.", 0) == 0 && target.empty()) continue;  // k_proj, v_proj: stacked above
        }
        ASSERT_FALSE(target.empty()) << view.name;
        w.addFloat(open + target, sd1->readFloat(view.name));
    }
    ASSERT_EQ(layers, 2);
    // The last resblock, text_projection and logit_scale: present, never read.
    const HostTensor ln = sd1->readFloat(clip + "final_layer_norm.weight");
    const auto nan = [](std::vector<int64_t> shape) {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        return HostTensor{shape, std::vector<float>(static_cast<size_t>(n), std::nanf(""))};
    };
    const std::string last = open + "transformer.resblocks.2.";
    for (const auto& [name, shape] :
         std::vector<std::pair<std::string, std::vector<int64_t>>>{{"ln_1.weight", {32}},
                                                                   {"ln_1.bias", {32}},
                                                                   {"attn.in_proj_weight", {96, 32}},
                                                                   {"attn.in_proj_bias", {96}},
                                                                   {"attn.out_proj.weight", {32, 32}},
                                                                   {"attn.out_proj.bias", {32}},
                                                                   {"ln_2.weight", {32}},
                                                                   {"ln_2.bias", {32}},
                                                                   {"mlp.c_fc.weight", {37, 32}},
                                                                   {"mlp.c_fc.bias", {37}},
                                                                   {"mlp.c_proj.weight", {32, 37}},
                                                                   {"mlp.c_proj.bias", {32}}})
        w.addFloat(last + name, nan(shape));
    w.addFloat(open + "text_projection", nan({32, 32}));
    w.addFloat(open + "logit_scale", HostTensor{{}, {4.6F}});
    w.write(dir / "sd2.safetensors");

    const LdmCheckpoint ckpt = mapLdmCheckpoint(shapesOfFile(dir / "sd2.safetensors"), "sd2.safetensors");
    EXPECT_EQ(ckpt.family, "sd2");
    EXPECT_EQ(ckpt.textEncoder.config["num_hidden_layers"], 2);
    EXPECT_EQ(ckpt.textEncoder.config["hidden_act"], "gelu");
    EXPECT_FALSE(ckpt.textEncoder.config.contains("projection_dim"));
    EXPECT_EQ(ckpt.unet.config["attention_head_dim"], nlohmann::json({1, 1}));  // 32 and 64 channels / 64
    EXPECT_EQ(ckpt.unet.config["sample_size"], 96);
    EXPECT_EQ(ckpt.ignored.size(), 14U);  // 12 tensors of resblocks.2, text_projection, logit_scale

    // With the folder's configs: the SD 1.x file's run, bit for bit.
    const auto run = [](const std::filesystem::path& file) {
        DiffusionLoadOptions load;
        load.configDir = fixture("sd-tiny-random");
        DiffusionOptions o;
        o.prompt = "a photo of a hand";
        o.steps = 2;
        o.width = o.height = 32;
        o.heatmaps = false;
        return DiffusionModel::load(file, "cpu", load)->generate(o);
    };
    const DiffusionResult a = run(dir / "sd2.safetensors"), b = run(checkpoint());
    EXPECT_EQ(a.promptEmbeds.values, b.promptEmbeds.values);
    EXPECT_EQ(a.latents.values, b.latents.values);

    // Without a scheduler or tokenizer beside it: SD 2's.
    std::filesystem::create_directories(dir / "parts/text_encoder");
    std::filesystem::copy(fixture("sd-tiny-random/text_encoder/config.json"), dir / "parts/text_encoder/config.json");
    DiffusionLoadOptions parts;
    parts.configDir = dir / "parts";
    const PipelineParts p = loadSingleFilePipeline(dir / "sd2.safetensors", parts, torch::kCPU);
    EXPECT_EQ(p.schedulerConfig->json()["prediction_type"], "v_prediction");
    EXPECT_EQ(p.tokenizer->padId(), 0);  // "!" (as SD 2's tokenizer_config.json); SD 1.x: <|endoftext|>
    EXPECT_EQ(loadSingleFilePipeline(checkpoint(), parts, torch::kCPU).tokenizer->padId(), 49407);
    EXPECT_EQ(p.unet->sampleSize(), 96);
}
