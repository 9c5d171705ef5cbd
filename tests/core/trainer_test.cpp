// The trainer (#5): corpus tasks are well-formed and seeded, the BPE keeps digits single, the
// output folder loads through the normal loader, training is reproducible and resumes exactly,
// and eval measures every skill.
#include "test_support.h"

#include "spyglass/error.h"
#include "spyglass/evaluation.h"
#include "spyglass/language_model.h"
#include "spyglass/trainer.h"
#include "train/corpus.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <sstream>

using namespace spyglass::core;
using spyglass::test::TempDir;

namespace {

TrainConfig tinyConfig(const std::filesystem::path& out)
{
    TrainConfig c;
    c.outDir = out;
    c.vocabSize = 320;
    c.tokenizerDocuments = 400;
    c.layers = 1;
    c.heads = 2;
    c.width = 32;
    c.contextLength = 32;
    c.corpusTokens = 20000;
    c.batchSize = 4;
    c.steps = 20;
    c.learningRate = 3e-3;
    c.warmupSteps = 2;
    c.checkpointEvery = 5;
    c.validationEvery = 5;
    return c;
}

std::string bytesOf(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST(Corpus, TasksAreWellFormedAndSeeded)
{
    CorpusGenerator a({}, {"In the beginning."}, 5), b({}, {"In the beginning."}, 5);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(a.next(), b.next());
    CorpusGenerator g({}, {}, 1);
    const std::regex sum(R"((\d+) \+ (\d+) = (\d+))");
    std::istringstream lines(g.addition());
    std::string line;
    while (std::getline(lines, line)) {
        std::smatch m;
        ASSERT_TRUE(std::regex_match(line, m, sum)) << line;
        EXPECT_EQ(std::stoi(m[1]) + std::stoi(m[2]), std::stoi(m[3]));
    }
    const std::string counting = g.counting();
    std::istringstream numbers(counting);
    int previous = -1, n;
    char comma;
    while (numbers >> n) {
        if (previous >= 0) EXPECT_EQ(n, previous + 1) << counting;
        previous = n;
        numbers >> comma;
    }
    std::string brackets = g.brackets();
    int depth = 0;
    for (char c : brackets) {
        depth += (c == '(' || c == '[' || c == '{') - (c == ')' || c == ']' || c == '}');
        EXPECT_GE(depth, 0);
    }
    EXPECT_EQ(depth, 0) << brackets;
    EXPECT_THROW(CorpusGenerator({{{"poetry", 1.0}}}, {}, 1), Error);
}

TEST(Trainer, WritesALoadableReproducibleModel)
{
    TempDir a, b;
    train(tinyConfig(a.path()), {}, false);
    train(tinyConfig(b.path()), {}, false);
    EXPECT_EQ(bytesOf(a / "model.safetensors"), bytesOf(b / "model.safetensors"));
    EXPECT_EQ(bytesOf(a / "tokenizer.json"), bytesOf(b / "tokenizer.json"));

    auto model = LanguageModel::load(a.path());
    EXPECT_EQ(model->info().vocabSize, 320);
    EXPECT_EQ(model->info().eosId, 319);
    const Encoding e = model->tokenizer()->encode("12 + 345 = 357");
    int digits = 0;
    for (int id : e.ids)
        digits += std::isdigit(static_cast<unsigned char>(model->tokenizer()->tokenText(id)[0])) ? 1 : 0;
    EXPECT_EQ(digits, 8);  // every digit is its own token
    for (int id : e.ids) {
        const std::string t = model->tokenizer()->tokenText(id);
        if (std::isdigit(static_cast<unsigned char>(t[0]))) EXPECT_EQ(t.size(), 1u);
    }
    EXPECT_EQ(model->tokenizer()->encode("<|endoftext|>").ids, std::vector<int>{319});

    // The loss went down (the log holds one line per checkpoint).
    std::ifstream log(a / "training_log.tsv");
    std::string header, first, last, line;
    std::getline(log, header);
    std::getline(log, first);
    while (std::getline(log, line)) last = line;
    EXPECT_LT(std::stod(last.substr(last.find('\t') + 1)), std::stod(first.substr(first.find('\t') + 1)));
}

TEST(Trainer, ResumesExactlyAfterACancel)
{
    TempDir straight, resumed;
    train(tinyConfig(straight.path()), {}, false);
    EXPECT_THROW(train(
                     tinyConfig(resumed.path()), [](const TrainProgress& p) { return p.step < 7; }, false),
                 Cancelled);
    train(tinyConfig(resumed.path()), {}, true);
    EXPECT_EQ(bytesOf(straight / "model.safetensors"), bytesOf(resumed / "model.safetensors"));
}

TEST(Trainer, RecipeErrorsNameTheKey)
{
    TempDir dir;
    spyglass::test::writeFile(dir / "r.json", R"({"layers": 2, "colour": "blue"})");
    try {
        (void)TrainConfig::fromFile(dir / "r.json");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("unknown key \"colour\""), std::string::npos);
    }
    spyglass::test::writeFile(dir / "r.json", R"({"layers": "two"})");
    EXPECT_THROW((void)TrainConfig::fromFile(dir / "r.json"), Error);
    TrainConfig bad = tinyConfig(dir / "out");
    bad.heads = 3;
    EXPECT_THROW(train(bad, {}, false), Error);
}

TEST(Eval, MeasuresEverySkill)
{
    TempDir dir;
    train(tinyConfig(dir.path()), {}, false);
    std::ofstream(dir / "prose.txt") << "In the beginning.\nAnd the earth was without form.\nAnd there was light.\n";
    auto model = LanguageModel::load(dir.path());
    EvalOptions o;
    o.trials = 2;
    o.maxDigits = 4;
    o.proseFile = (dir / "prose.txt").string();
    const auto metrics = evaluate(*model, o);
    std::vector<std::string> names;
    for (const auto& m : metrics) {
        names.push_back(m.name);
        if (m.name != "heldout_prose_perplexity") {
            EXPECT_GE(m.value, 0.0);
            EXPECT_LE(m.value, 1.0);
        } else {
            EXPECT_GT(m.value, 1.0);
        }
        EXPECT_FALSE(m.example.empty()) << m.name;
    }
    EXPECT_EQ(names, (std::vector<std::string>{"counting_from_1_to_150", "counting_across_100", "counting_beyond_150",
                                               "addition_1_digits", "addition_2_digits", "addition_3_digits",
                                               "addition_4_digits", "list_recall", "birth_year_recall",
                                               "heldout_prose_perplexity"}));
}
