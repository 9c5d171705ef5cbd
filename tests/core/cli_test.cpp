// spyglass-cli on the fixture model: every subcommand, its JSON contract, and one-line errors
// naming the input (docs/cli.md, issue #2).
#include "cli_support.h"
#include "test_support.h"

#include "spyglass/language_model.h"
#include "spyglass/runtime.h"
#include "spyglass/safetensors.h"

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <array>
#include <cstdio>

using namespace spyglass::test;

namespace {

const std::string kModel = fixture("gpt2-tiny-random").string();

}  // namespace

TEST(Cli, VersionAndHelp)
{
    EXPECT_EQ(cli({"--version"}).out, "spyglass-cli 0.1.0\n");
    for (const char* sub : {"tokenize", "generate", "trace"}) {
        const CliRun r = cli({sub, "--help"});
        EXPECT_EQ(r.code, 0) << sub;
        EXPECT_NE(r.out.find("--model"), std::string::npos) << sub;
    }
    EXPECT_NE(cli({"--help"}).out.find("tokenize"), std::string::npos);
}

TEST(Cli, TokenizeGivesIdsTokensAndByteOffsets)
{
    const CliRun r = cli({"tokenize", "--model", kModel, "--text", "héllo wörld"});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    const auto ids = j["ids"].get<std::vector<int>>();
    EXPECT_EQ(j["tokens"].size(), ids.size());
    EXPECT_EQ(j["offsets"].front()[0], 0);
    EXPECT_EQ(j["offsets"].back()[1], std::string("héllo wörld").size());
}

TEST(Cli, TokenizeTextFileIsByteExact)
{
    TempDir dir;
    writeFile(dir / "t.txt", "line\n");
    const CliRun r = cli({"tokenize", "--model", kModel, "--text-file", (dir / "t.txt").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["ids"], nlohmann::json({1370, 198}));
}

TEST(Cli, GenerateGreedyJsonMatchesTheReference)
{
    const CliRun r = cli({"generate", "--model", kModel, "--prompt", "1, 2, 3, 4,", "--max-new-tokens", "4", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["prompt_ids"], nlohmann::json({16, 11, 362, 11, 513, 11, 604, 11}));
    EXPECT_EQ(j["generated_ids"], nlohmann::json({25804, 42946, 11849, 48609}));
    EXPECT_TRUE(j["text"].is_string());
    const CliRun ids =
        cli({"generate", "--model", kModel, "--ids", "16,11,362,11,513,11,604,11", "--max-new-tokens", "4", "--json"});
    EXPECT_EQ(nlohmann::json::parse(ids.out)["generated_ids"], j["generated_ids"]);
    const CliRun text = cli({"generate", "--model", kModel, "--prompt", "1, 2, 3, 4,", "--max-new-tokens", "4"});
    EXPECT_EQ(text.out, j["text"].get<std::string>() + "\n");
}

TEST(Cli, TraceWritesTheDocumentedTensors)
{
    TempDir dir;
    const auto out = (dir / "trace.safetensors").string();
    const CliRun r = cli({"trace", "--model", kModel, "--prompt", "1, 2, 3, 4,", "--out", out});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(r.out.empty());
    auto file = spyglass::core::SafetensorsFile::open(out);
    EXPECT_EQ(file->get("input_ids").dtype, spyglass::core::DType::I64);
    for (const char* name : {"logits", "resid_pre.0", "attn_out.1", "mlp_out.0", "resid_post.1", "mlp_act.0",
                             "attn_pattern.1", "final_norm_out", "ln_f_out"})
        EXPECT_NE(file->find(name), nullptr) << name;
    auto reference = spyglass::core::SafetensorsFile::open(fixture("gpt2-tiny-random/reference.safetensors"));
    EXPECT_TRUE(allClose(file->readFloat("ln_f_out"), reference->readFloat("ln_f_out")));
}

TEST(Cli, ErrorsAreOneLineAndNameTheInput)
{
    const CliRun missing = cli({"generate", "--model", "/nonexistent/model", "--prompt", "x"});
    EXPECT_EQ(missing.code, 1);
    EXPECT_EQ(missing.err, "spyglass-cli: error: loading model '/nonexistent/model': does not exist\n");
    EXPECT_TRUE(missing.out.empty());
    const CliRun usage = cli({"generate", "--model", kModel});
    EXPECT_EQ(usage.code, 2);
    EXPECT_NE(usage.err.find("exactly one of --prompt and --ids"), std::string::npos);
    const CliRun unknown = cli({"tokenize", "--bogus"});
    EXPECT_NE(unknown.err.find("unknown option --bogus"), std::string::npos);
    const CliRun cuda = cli({"generate", "--model", kModel, "--prompt", "x", "--device", "cuda"});
    if (!spyglass::core::cudaAvailable()) {
        EXPECT_NE(cuda.err.find("--device: 'cuda' is not available"), std::string::npos) << cuda.err;
    }
    const CliRun badIds = cli({"generate", "--model", kModel, "--ids", "1,x"});
    EXPECT_NE(badIds.err.find("--ids expects comma-separated token ids, got 'x'"), std::string::npos);
    const CliRun threads = cli({"generate", "--model", kModel, "--prompt", "x", "--threads", "0"});
    EXPECT_EQ(threads.code, 2);
}

TEST(Cli, AnalyzeWritesAReportWithEverySection)
{
    TempDir dir;
    const auto out = (dir / "report.json").string();
    const CliRun r = cli({"analyze", "--model", kModel, "--prompt", "1, 2, 3, 4,", "--max-new-tokens", "3",
                          "--save-loadings", "--out", out});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(r.out.empty());
    std::ifstream in(out);
    const auto j = nlohmann::json::parse(in);
    EXPECT_EQ(j["schema"], "spyglass.report/1");
    EXPECT_EQ(j["saliency"][0]["method"], "grad_x_input");
    EXPECT_EQ(j["saliency"][0]["target"], "prob");
    EXPECT_EQ(j["lens"]["mode"], "normed");
    EXPECT_EQ(j["lens"]["top_k"], 10);
    EXPECT_EQ(j["factors"]["k"], 10);
    EXPECT_EQ(j["factors"]["layers"], nlohmann::json({0, 1}));
    EXPECT_EQ(j["projection"]["method"], "pca");
    EXPECT_EQ(j["factors"]["loadings_file"], "report.json.loadings.safetensors");
    EXPECT_TRUE(std::filesystem::exists(dir / "report.json.loadings.safetensors"));
}

TEST(Cli, AnalyzeTakesTokenIdsForAModelWithoutTokenizerFiles)
{
    TempDir dir;
    const auto out = (dir / "report.json").string();
    const std::string model = fixture("families/llama-tiny-random").string();
    const CliRun text = cli({"analyze", "--model", model, "--prompt", "hello", "--out", out});
    EXPECT_NE(text.err.find("has no tokenizer files; analyze it on token ids"), std::string::npos) << text.err;
    const CliRun r = cli(
        {"analyze", "--model", model, "--ids", "1,5,9,22", "--max-new-tokens", "2", "--factors", "3", "--out", out});
    ASSERT_EQ(r.code, 0) << r.err;
    std::ifstream in(out);
    const auto j = nlohmann::json::parse(in);
    ASSERT_EQ(j["tokens"].size(), 6u);
    EXPECT_EQ(j["tokens"][0]["id"], 1);
    EXPECT_EQ(j["tokens"][3]["id"], 22);
    EXPECT_EQ(j["saliency"][0]["rows"].size(), 2u);
    const CliRun both = cli({"analyze", "--model", model, "--ids", "1", "--prompt", "x", "--out", out});
    EXPECT_NE(both.err.find("give --prompt or --ids (exactly one)"), std::string::npos) << both.err;
    const CliRun diff = cli({"analyze", "--model", model, "--ids", "1,2", "--ablate", "head:0:0", "--diff",
                             (dir / "d.json").string(), "--out", out});
    EXPECT_NE(diff.err.find("--diff needs --prompt"), std::string::npos) << diff.err;
}

TEST(Cli, AnalyzeErrorsNameTheOption)
{
    TempDir dir;
    const auto out = (dir / "report.json").string();
    const CliRun big = cli(
        {"analyze", "--model", kModel, "--prompt", "1, 2,", "--max-new-tokens", "2", "--factors", "9", "--out", out});
    EXPECT_EQ(big.code, 1);
    EXPECT_NE(big.err.find("--factors: 9 is larger than the number of positions (6)"), std::string::npos) << big.err;
    const CliRun method = cli({"analyze", "--model", kModel, "--prompt", "x", "--saliency", "shap", "--out", out});
    EXPECT_NE(
        method.err.find(
            "--saliency: unknown saliency method 'shap' (grad_x_input, gradient, integrated_gradients or occlusion)"),
        std::string::npos)
        << method.err;
    const CliRun empty = cli({"analyze", "--model", kModel, "--prompt", "", "--out", out});
    EXPECT_NE(empty.err.find("the prompt is empty"), std::string::npos) << empty.err;
    EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(Cli, RenderDrawsEveryViewOfAReport)
{
    TempDir dir;
    const auto report = (dir / "report.json").string();
    ASSERT_EQ(
        cli({"analyze", "--model", kModel, "--prompt", "1, 2, 3, 4,", "--max-new-tokens", "3", "--out", report}).code,
        0);
    for (const char* view : {"saliency", "lens", "factors", "projection"}) {
        for (const char* suffix : {"png", "svg", "pdf"}) {
            const auto out = (dir / (std::string(view) + "." + suffix)).string();
            const CliRun r = cli({"render", report, "--view", view, "--out", out});
            if (r.code == 2 && r.err.find("needs a build with the GUI") != std::string::npos)
                GTEST_SKIP() << "built without the GUI";
            ASSERT_EQ(r.code, 0) << r.err;
            EXPECT_GT(std::filesystem::file_size(out), 1000u) << out;
        }
    }
    const CliRun bad = cli({"render", report, "--view", "pie", "--out", (dir / "x.png").string()});
    EXPECT_EQ(bad.code, 2);
    const CliRun token =
        cli({"render", report, "--view", "saliency", "--token", "99", "--out", (dir / "x.png").string()});
    EXPECT_NE(token.err.find("--token 99 is past the report's 11 tokens"), std::string::npos) << token.err;
}

TEST(Cli, InfoShowsTheFamily)
{
    const CliRun gpt2 = cli({"info", "--model", kModel});
    ASSERT_EQ(gpt2.code, 0) << gpt2.err;
    const auto g = nlohmann::json::parse(gpt2.out);
    EXPECT_EQ(g["architecture"], "gpt2");
    EXPECT_EQ(g["n_layer"], 2);
    EXPECT_EQ(g["vocab_size"], 50257);
    const CliRun neox = cli({"info", "--model", fixture("families/neox-tiny-random").string()});
    EXPECT_EQ(nlohmann::json::parse(neox.out)["architecture"], "gpt_neox");
    const CliRun llama2c = cli({"info", "--model", fixture("llama2c/aidreams260K.bin").string(), "--tokenizer",
                                fixture("llama2c/tok512.bin").string()});
    const auto l = nlohmann::json::parse(llama2c.out);
    EXPECT_EQ(l["architecture"], "llama2c");
    EXPECT_EQ(l["context_length"], 128);
    EXPECT_TRUE(l["tokenizer"].get<std::string>().ends_with("tok512.bin"));
}
