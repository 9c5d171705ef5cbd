// `spyglass-cli batch` and `aggregate` (#19 item 2): two processes with --shard 0/2 and 1/2 write
// every line's report exactly once; --resume skips what is there; a bad line is recorded and the
// rest go on; aggregate's tables are recomputed here from the reports themselves.
#include "cli_support.h"
#include "test_support.h"

#include "spyglass/error.h"
#include "spyglass/generation_parameters.h"
#include "spyglass/report_json.h"
#include "spyglass/report_summary.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <thread>

using nlohmann::json;
using spyglass::test::cli;
using spyglass::test::CliRun;
using spyglass::test::fixture;
using spyglass::test::TempDir;
using spyglass::test::writeFile;

TEST(Batch, TwoShardsWriteEveryLineOnceAndAggregateMergesThem)
{
    TempDir dir;
    const std::string model = fixture("gpt2-tiny-random").string();
    writeFile(dir / "prompts.jsonl",
              "{\"id\": \"count\", \"prompt\": \"1, 2, 3,\"}\n"
              "{\"prompt\": \"a, b, c,\", \"max_new_tokens\": 3}\n"
              "\n"
              "{\"prompt\": \"Hello world\"}\n"
              "not json\n"
              "{\"id\": 7, \"prompt\": \"4, 5\"}\n");
    const std::vector<std::string> common{"batch",
                                          "--model",
                                          model,
                                          "--prompts",
                                          (dir / "prompts.jsonl").string(),
                                          "--out-dir",
                                          (dir / "out").string(),
                                          "--max-new-tokens",
                                          "2",
                                          "--factors",
                                          "2"};
    CliRun first, second;
    {
        auto withShard = [&](const char* shard) {
            auto args = common;
            args.insert(args.end(), {"--shard", shard});
            return args;
        };
        std::thread a([&] { first = cli(withShard("0/2")); });
        std::thread b([&] { second = cli(withShard("1/2")); });
        a.join();
        b.join();
    }
    // Lines 1 2 4 5 6 (3 is blank): shard 0 takes 1, 5 (not json: fails) — shard 1 takes 2, 4, 6.
    EXPECT_EQ(first.code, 1) << first.err;
    EXPECT_EQ(second.code, 0) << second.err;
    EXPECT_NE(first.err.find("1 written, 0 already there, 1 failed"), std::string::npos) << first.err;
    EXPECT_NE(second.err.find("3 written, 0 already there, 0 failed"), std::string::npos) << second.err;
    for (const char* name : {"count.json", "line-000002.json", "line-000004.json", "7.json", "line-000005.error.json"})
        EXPECT_TRUE(std::filesystem::exists(dir / "out" / name)) << name;
    std::ifstream errorFile(dir / "out/line-000005.error.json");
    EXPECT_EQ(json::parse(errorFile)["line"], 5);
    const auto count = spyglass::core::readReport(dir / "out/count.json");
    EXPECT_NE(count.settingsJson.find("\"prompt\":\"1, 2, 3,\""), std::string::npos);
    EXPECT_EQ(spyglass::core::readReport(dir / "out/line-000002.json").tokens.size(), 6U + 3U);  // its own 3 new tokens

    // --resume: nothing is computed again.
    auto resumed = common;
    resumed.push_back("--resume");
    const CliRun again = cli(resumed);
    EXPECT_NE(again.err.find("0 written, 4 already there, 1 failed"), std::string::npos) << again.err;

    // aggregate: the JSON and CSV tables, checked against the reports.
    CliRun r = cli({"aggregate", (dir / "out").string(), "--out", (dir / "summary.json").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    std::ifstream in(dir / "summary.json");
    const json summary = json::parse(in);
    EXPECT_EQ(summary["format"], "spyglass.summary/1");
    EXPECT_EQ(summary["reports"], 4);
    std::vector<spyglass::core::Report> reports;
    for (const char* name : {"7.json", "count.json", "line-000002.json", "line-000004.json"})
        reports.push_back(spyglass::core::readReport(dir / "out" / name));
    int rows = 0, positions = 0;
    double digitShare = 0;
    for (const auto& report : reports)
        for (const auto& row : report.saliency.front().rows) {
            ++rows;
            for (size_t p = 0; p < row.scores.size(); ++p)
                if (spyglass::core::tokenClass(*report.tokens[p].text) == "digit") digitShare += row.scores[p];
        }
    for (const auto& report : reports) positions += static_cast<int>(report.tokens.size()) - 1;
    EXPECT_EQ(summary["saliency"]["rows"], rows);
    EXPECT_NEAR(summary["saliency"]["mean_share_by_token_class"]["digit"].get<double>(), digitShare / rows, 1e-9);
    EXPECT_EQ(summary["lens"]["positions"], positions);
    int histogram = 0;
    for (const auto& [layer, n] : summary["lens"]["first_correct_layer"].items()) histogram += n.get<int>();
    EXPECT_EQ(histogram, positions);
    EXPECT_EQ(summary["factors"]["reports_by_k"]["2"], 4);
    r = cli({"aggregate", (dir / "out").string(), "--out", (dir / "summary.csv").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    std::ifstream csv(dir / "summary.csv");
    std::string header;
    std::getline(csv, header);
    EXPECT_EQ(header, "section,key,value");

    // Bad input: one line each.
    r = cli({"batch", "--model", model, "--prompts", (dir / "prompts.jsonl").string(), "--out-dir",
             (dir / "x").string(), "--shard", "2/2"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--shard 2/2: I must lie in 0 … N−1"), std::string::npos) << r.err;
    r = cli({"aggregate", (dir / "x").string(), "--out", (dir / "s.json").string()});
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("not a folder"), std::string::npos) << r.err;
}

TEST(Batch, TokenClasses)
{
    using spyglass::core::tokenClass;
    EXPECT_EQ(tokenClass(" 42"), "digit");
    EXPECT_EQ(tokenClass(","), "punctuation");
    EXPECT_EQ(tokenClass(" "), "space");
    EXPECT_EQ(tokenClass(" hello"), "word");
    EXPECT_EQ(tokenClass("é"), "word");
    EXPECT_EQ(tokenClass("a1"), "other");
}

TEST(Batch, SummaryJsonReadsBack)
{
    spyglass::core::DatasetSummary s;
    s.reports = 3;
    s.promptTokens = 40;
    s.generatedTokens = 12;
    s.saliencyRows = 12;
    s.saliencyMethod = "grad_x_input";
    s.shareByClass = {{"digit", 0.5}, {"punctuation", 0.25}, {"word", 0.25}};
    s.contextTokensByClass = {{"digit", 20}, {"punctuation", 15}, {"word", 5}};
    s.firstTokenShare = 0.125;
    s.factorReports = 2;
    s.reportsByK = {{10, 2}};
    s.meanRelativeError = 0.3;
    s.meanStability = 0.8;
    s.minStability = 0.7;
    s.maxStability = 0.9;
    s.lensPositions = 30;
    s.lensLayers = {"embed", "block.0", "block.1", "never"};  // the file's order is kept
    s.firstCorrectLayer = {1, 4, 20, 5};
    const auto back = spyglass::core::parseSummaryJson(spyglass::core::summaryJson(s), "summary.json");
    EXPECT_EQ(spyglass::core::summaryJson(back), spyglass::core::summaryJson(s));
    EXPECT_EQ(back.lensLayers, s.lensLayers);
    const auto errorOf = [](const std::string& text) {
        try {
            (void)spyglass::core::parseSummaryJson(text, "x.json");
        } catch (const spyglass::core::Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    EXPECT_NE(errorOf("{\"format\": \"spyglass.report/1\"}").find("x.json: not a dataset summary"), std::string::npos);
    EXPECT_NE(errorOf("{\"format\": \"spyglass.summary/1\", \"reports\": 1}").find("x.json: \"tokens\" is missing"),
              std::string::npos);
    EXPECT_NE(errorOf("{").find("x.json: not JSON"), std::string::npos);
}

// batch --command diffuse: one PNG (with its A1111 parameters) and one JSON (settings and each word's
// DAAM heat share) per line; a line's own seed/steps win; --resume skips what is there.
TEST(BatchCli, DiffuseWritesAnImageAndItsWordHeatPerLine)
{
    TempDir dir;
    writeFile(dir / "prompts.jsonl",
              "{\"id\": \"hand\", \"prompt\": \"a photo of a hand\", \"seed\": 5}\n"
              "{\"prompt\": \"a red apple\", \"steps\": 3, \"negative\": \"blurry\"}\n");
    const std::vector<std::string> args{"batch",
                                        "--command",
                                        "diffuse",
                                        "--model",
                                        fixture("sd-tiny-random").string(),
                                        "--prompts",
                                        (dir / "prompts.jsonl").string(),
                                        "--out-dir",
                                        (dir / "out").string(),
                                        "--steps",
                                        "2",
                                        "--size",
                                        "32x32"};
    const CliRun r = cli(args);
    ASSERT_EQ(r.code, 0) << r.err;
    for (const auto& [name, seed, steps] :
         std::vector<std::tuple<std::string, int, int>>{{"hand", 5, 2}, {"line-000002", 0, 3}}) {
        const json result = json::parse(std::ifstream(dir / "out" / (name + ".json")));
        EXPECT_EQ(result["image"], name + ".png");
        EXPECT_EQ(result["seed"], seed);
        EXPECT_EQ(result["steps"], steps);
        EXPECT_EQ(result["size"], json({32, 32}));
        double share = 0;
        for (const auto& w : result["words"]) share += w["share"].get<double>();
        EXPECT_NEAR(share, 1.0, 1e-6) << name;
        std::ifstream png(dir / "out" / (name + ".png"), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(png)), std::istreambuf_iterator<char>());
        const auto text = spyglass::core::readPngText(bytes, "parameters", name);
        ASSERT_TRUE(text.has_value()) << name;
        EXPECT_NE(text->find("Seed: " + std::to_string(seed)), std::string::npos) << *text;
        EXPECT_NE(text->find("Steps: " + std::to_string(steps)), std::string::npos) << *text;
    }
    EXPECT_EQ(json::parse(std::ifstream(dir / "out/line-000002.json"))["negative_prompt"], "blurry");
    std::vector<std::string> again = args;
    again.push_back("--resume");
    const CliRun resumed = cli(again);
    EXPECT_EQ(resumed.code, 0);
    EXPECT_NE(resumed.err.find("0 written, 2 already there"), std::string::npos) << resumed.err;
    const CliRun bad = cli({"batch", "--command", "render", "--model", "x", "--prompts", "p", "--out-dir", "o"});
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.err.find("--command must be analyze, diffuse or compare-prompts"), std::string::npos) << bad.err;

    // --command compare-prompts: the lab's files per line, its index also as <id>.json.
    writeFile(dir / "labs.jsonl",
              "{\"id\": \"lab\", \"base\": \"a photo of a hand\", \"append\": \"masterpiece, 8k\", "
              "\"region\": [8, 8, 16, 16]}\n{\"prompt\": \"no base\"}\n");
    const CliRun labs =
        cli({"batch", "--command", "compare-prompts", "--model", fixture("sd-tiny-random").string(), "--prompts",
             (dir / "labs.jsonl").string(), "--out-dir", (dir / "labs").string(), "--steps", "2", "--size", "32x32"});
    EXPECT_EQ(labs.code, 1);  // the second line has no base
    const json index = json::parse(std::ifstream(dir / "labs/lab.json"));
    EXPECT_EQ(index["ranking"].size(), 2U);
    EXPECT_NEAR(index["region_area"].get<double>(), 0.25, 1e-12);
    EXPECT_TRUE(std::filesystem::exists(dir / "labs/lab/grid.png"));
    EXPECT_NE(json::parse(std::ifstream(dir / "labs/line-000002.error.json"))["error"].get<std::string>().find(
                  "string \"base\" and \"append\""),
              std::string::npos);
}
