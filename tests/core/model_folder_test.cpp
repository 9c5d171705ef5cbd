// Model folders: every real-checkpoint variant loads (prefix or not, F16/BF16, sharded, HF
// buffers), and every broken folder fails with a message naming the file and the reason (#2).
#include "cli_support.h"
#include "model_fixture.h"

#include "spyglass/error.h"
#include "spyglass/language_model.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

using namespace spyglass::core;
using namespace spyglass::test;

namespace {

std::string loadError(const std::filesystem::path& dir)
{
    try {
        (void)LanguageModel::load(dir);
    } catch (const Error& e) {
        return e.what();
    }
    return "(loaded without error)";
}

HostTensor referenceLogits()
{
    return LanguageModel::load(fixture("gpt2-tiny-random"))
        ->trace(spyglass::test::kCommaPrompt, kCaptureLogits)
        .at("logits");
}

#define EXPECT_CONTAINS(haystack, needle) EXPECT_NE((haystack).find(needle), std::string::npos) << (haystack)

}  // namespace

TEST(ModelFolder, LoadsWithoutTransformerPrefixAndWithHfBuffers)
{
    TempDir dir;
    copyModelFiles(dir.path());
    TensorMap renamed;
    for (auto& [name, t] : fixtureWeights()) renamed[name.substr(std::string("transformer.").size())] = t;
    renamed["h.0.attn.bias"] = {{1, 1, 4, 4}, std::vector<float>(16, 1.0F)};
    renamed["h.0.attn.masked_bias"] = {{}, {-1e4F}};
    writeWeights(dir / "model.safetensors", renamed);
    auto model = LanguageModel::load(dir.path());
    EXPECT_TRUE(
        allClose(model->trace(spyglass::test::kCommaPrompt, kCaptureLogits).at("logits"), referenceLogits(), 1e-6, 0));
}

TEST(ModelFolder, LoadsHalfAndBFloat16Weights)
{
    for (DType dtype : {DType::F16, DType::BF16}) {
        TempDir dir;
        copyModelFiles(dir.path());
        writeWeights(dir / "model.safetensors", fixtureWeights(), dtype);
        auto model = LanguageModel::load(dir.path());
        const auto logits = model->trace(spyglass::test::kCommaPrompt, kCaptureLogits).at("logits");
        // Rounding the weights moves logits by much less than their spread (~1).
        EXPECT_TRUE(allClose(logits, referenceLogits(), dtype == DType::F16 ? 0.01 : 0.1, 0)) << dtypeName(dtype);
    }
}

TEST(ModelFolder, LoadsShardedCheckpoints)
{
    TempDir dir;
    copyModelFiles(dir.path());
    TensorMap first, second;
    nlohmann::json index;
    for (auto& [name, t] : fixtureWeights()) {
        const bool inFirst = name.find(".h.1.") == std::string::npos;
        (inFirst ? first : second)[name] = t;
        index["weight_map"][name] = inFirst ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    }
    writeWeights(dir / "model-00001-of-00002.safetensors", first);
    writeWeights(dir / "model-00002-of-00002.safetensors", second);
    writeFile(dir / "model.safetensors.index.json", index.dump());
    EXPECT_TRUE(
        allClose(LanguageModel::load(dir.path())->trace(spyglass::test::kCommaPrompt, kCaptureLogits).at("logits"),
                 referenceLogits(), 1e-6, 0));

    std::filesystem::remove(dir / "model-00002-of-00002.safetensors");
    EXPECT_CONTAINS(loadError(dir.path()), "shard 'model-00002-of-00002.safetensors' is missing");
}

TEST(ModelFolder, RunsOnIdsWithoutTokenizerFiles)
{
    TempDir dir;
    copyModelFiles(dir.path(), /*withTokenizer=*/false);
    std::filesystem::create_symlink(fixture("gpt2-tiny-random/model.safetensors"), dir / "model.safetensors");
    auto model = LanguageModel::load(dir.path());
    EXPECT_EQ(model->tokenizer(), nullptr);
    EXPECT_THROW((void)model->encode("hi"), Error);
    SamplingOptions o;
    o.maxNewTokens = 2;
    EXPECT_EQ(model->generate(spyglass::test::kCommaPrompt, o).generatedIds, (std::vector<int>{25804, 42946}));
}

TEST(ModelFolderErrors, MissingTensor)
{
    TempDir dir;
    copyModelFiles(dir.path());
    auto weights = fixtureWeights();
    weights.erase("transformer.h.1.mlp.c_fc.bias");
    writeWeights(dir / "model.safetensors", weights);
    const std::string msg = loadError(dir.path());
    EXPECT_CONTAINS(msg, "loading model '" + dir.path().string() + "'");
    EXPECT_CONTAINS(msg,
                    "model.safetensors: missing tensor 'transformer.h.1.mlp.c_fc.bias'");  // the file and the full key
}

TEST(ModelFolderErrors, UnexpectedTensor)
{
    TempDir dir;
    copyModelFiles(dir.path());
    auto weights = fixtureWeights();
    weights["transformer.h.2.ln_1.weight"] = {{64}, std::vector<float>(64, 1.0F)};
    writeWeights(dir / "model.safetensors", weights);
    EXPECT_CONTAINS(loadError(dir.path()), "model.safetensors: unexpected tensor 'transformer.h.2.ln_1.weight'");
}

TEST(ModelFolderErrors, ShapeDisagreesWithConfig)
{
    TempDir dir;
    copyModelFiles(dir.path(), true, [](nlohmann::json& c) { c["n_positions"] = 256; });
    std::filesystem::create_symlink(fixture("gpt2-tiny-random/model.safetensors"), dir / "model.safetensors");
    EXPECT_CONTAINS(loadError(dir.path()),
                    "tensor 'transformer.wpe.weight' has shape [128, 64], config.json implies [256, 64]");
}

TEST(ModelFolderErrors, ConfigKeysMissingOrInconsistent)
{
    TempDir dir;
    copyModelFiles(dir.path(), true, [](nlohmann::json& c) { c.erase("n_layer"); });
    EXPECT_CONTAINS(loadError(dir.path()), "config.json: missing key \"n_layer\"");
    TempDir dir2;
    copyModelFiles(dir2.path(), true, [](nlohmann::json& c) { c["n_head"] = 5; });
    EXPECT_CONTAINS(loadError(dir2.path()), "n_embd (64) is not divisible by n_head (5)");
    TempDir dir3;
    copyModelFiles(dir3.path(), true, [](nlohmann::json& c) { c["n_embd"] = "wide"; });
    EXPECT_CONTAINS(loadError(dir3.path()), "\"n_embd\" must be a positive integer");
    TempDir dir4;
    writeFile(dir4 / "config.json", "{not json");
    EXPECT_CONTAINS(loadError(dir4.path()), "config.json: not valid JSON");
}

TEST(ModelFolderErrors, UnsupportedArchitectureListsSupportedOnes)
{
    TempDir dir;
    copyModelFiles(dir.path(), true, [](nlohmann::json& c) { c["model_type"] = "bert"; });
    EXPECT_CONTAINS(loadError(dir.path()), "architecture 'bert' is not supported (supported: gpt2");
}

TEST(ModelFolderErrors, PickleCheckpointsAreRefused)
{
    TempDir dir;
    copyModelFiles(dir.path());
    writeFile(dir / "pytorch_model.bin", std::string("PK\x03\x04", 4));
    const std::string msg = loadError(dir.path());
    EXPECT_CONTAINS(msg, "only a pickle checkpoint 'pytorch_model.bin'");
    EXPECT_CONTAINS(msg, "never unpickles");
    EXPECT_CONTAINS(msg, "safetensors");
    EXPECT_CONTAINS(loadError(dir / "pytorch_model.bin"), "is a pickle checkpoint");
}

TEST(ModelFolderErrors, EmptyMissingAndWrongKindsOfPath)
{
    TempDir dir;
    EXPECT_CONTAINS(loadError(dir.path()), "the folder is empty");
    EXPECT_CONTAINS(loadError(dir / "nope"), "does not exist");
    std::filesystem::create_directory(dir / "config.json");
    EXPECT_CONTAINS(loadError(dir.path()), "config.json: is a directory");
    TempDir noWeights;
    copyModelFiles(noWeights.path());
    EXPECT_CONTAINS(loadError(noWeights.path()), "no weights found (expected model.safetensors");
}

TEST(ModelFolderErrors, NonFiniteWeights)
{
    TempDir dir;
    copyModelFiles(dir.path());
    auto weights = fixtureWeights();
    weights["transformer.h.0.ln_1.weight"].values[3] = std::numeric_limits<float>::quiet_NaN();
    writeWeights(dir / "model.safetensors", weights);
    EXPECT_CONTAINS(loadError(dir.path()), "tensor 'transformer.h.0.ln_1.weight' holds NaN or Inf values");
}

TEST(ModelFolderErrors, UnreadableWeights)
{
    if (::geteuid() == 0) GTEST_SKIP() << "root reads files regardless of permissions";
    TempDir dir;
    copyModelFiles(dir.path());
    writeWeights(dir / "model.safetensors", fixtureWeights());
    std::filesystem::permissions(dir / "model.safetensors", std::filesystem::perms::none);
    EXPECT_CONTAINS(loadError(dir.path()), "model.safetensors: cannot open: Permission denied");
}

// The committed malformed-input corpus (tests/fixtures/malformed, issue #9): every folder fails
// with its documented message through the CLI, as one line, without a crash; the valid control
// folder loads.
TEST(MalformedCorpus, EveryCaseGivesItsMessageThroughTheCli)
{
    std::ifstream in(fixture("malformed/cases.json"));
    const auto manifest = nlohmann::json::parse(in);
    ASSERT_GE(manifest["cases"].size(), 15U);
    const CliRun valid = cli({"generate", "--model", fixture("malformed/valid").string(), "--ids", "1,2",
                              "--max-new-tokens", "2", "--json"});
    EXPECT_EQ(valid.code, 0) << valid.err;
    TempDir empty;
    for (const auto& c : manifest["cases"]) {
        const bool made = c.value("made_by_the_test", false);
        const std::string folder =
            made ? empty.path().string() : fixture("malformed/" + c["folder"].get<std::string>()).string();
        const CliRun r = cli({"generate", "--model", folder, "--ids", "1,2", "--max-new-tokens", "2"});
        EXPECT_EQ(r.code, 1) << c["folder"];
        EXPECT_NE(r.err.find(c["message"].get<std::string>()), std::string::npos) << c["folder"] << ": " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c["folder"] << ": " << r.err;
        EXPECT_TRUE(r.out.empty());
    }
}
