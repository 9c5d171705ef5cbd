// The Llama 2 SentencePiece tokenizer (#8), every reference case exact: from tokenizer.json
// (special tokens matched as HF fast tokenizers do) and from llama2.c's tokenizer.bin (plain
// text, as llama2.c's encode does); decode returns the text; llama2.c's golden text reproduced.
#include "test_support.h"

#include "spyglass/language_model.h"
#include "spyglass/tokenizer.h"

#include <nlohmann/json.hpp>

#include <fstream>

using namespace spyglass::core;
using spyglass::test::fixture;

namespace {

std::vector<nlohmann::json> cases()
{
    std::ifstream in(fixture("llama-tokenizer/cases.jsonl"));
    std::vector<nlohmann::json> out;
    std::string line;
    while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
    return out;
}

const std::string kLowerEighthBlockLine = "\xE2\x96\x81 literal lower one eighth block \xE2\x96\x81\xE2\x96\x81";

}  // namespace

TEST(LlamaTokenizer, TokenizerJsonMatchesSentencePiece)
{
    auto tok = Tokenizer::loadFromFolder(fixture("llama-tokenizer"));
    ASSERT_TRUE(tok);
    EXPECT_EQ(tok->vocabSize(), 32000);
    EXPECT_TRUE(tok->addsBos());
    const auto all = cases();
    ASSERT_EQ(all.size(), 165u);
    for (const auto& c : all) {
        const std::string text = c["text"].get<std::string>();
        const auto expected = c.contains("ids_if_special_tokens_parsed") ? c["ids_if_special_tokens_parsed"] : c["ids"];
        EXPECT_EQ(tok->encode(text).ids, expected.get<std::vector<int>>()) << text;
        if (c.contains("special_token_text")) continue;
        const auto ids = c["ids"].get<std::vector<int>>();
        EXPECT_EQ(tok->decode(ids), c.value("decoded", text)) << text;
    }
}

TEST(LlamaTokenizer, Llama2cTokenizerBinMatchesLlama2cEncode)
{
    auto tok = Tokenizer::fromLlama2cFile(fixture("llama-tokenizer/tokenizer.bin"));
    EXPECT_EQ(tok->vocabSize(), 32000);
    for (const auto& c : cases()) {
        const std::string text = c["text"].get<std::string>();
        std::vector<int> expected = c["ids"].get<std::vector<int>>();
        if (text == kLowerEighthBlockLine)  // llama2.c's space symbol is " ", so a literal "▁" falls back to bytes
            expected = {1,     29871, 229,   153, 132, 16333, 5224, 697, 321,
                        18919, 2908,  29871, 229, 153, 132,   229,  153, 132};
        const Encoding e = tok->encode(text);
        EXPECT_EQ(e.ids, expected) << text;
        // Offsets tile the input (the BOS and the dummy prefix are empty ranges).
        size_t covered = 0;
        for (const auto& [b, end] : e.offsets) covered += end - b;
        EXPECT_EQ(covered, text.size()) << text;
    }
}

TEST(LlamaTokenizer, Llama2cGoldenTextIsReproduced)
{
    LoadOptions options;
    options.tokenizer = fixture("llama2c/tok512.bin");
    auto model = LanguageModel::load(fixture("llama2c/aidreams260K.bin"), options);
    ASSERT_TRUE(model->tokenizer());
    const std::vector<int> prompt = model->encode("");
    EXPECT_EQ(prompt, std::vector<int>{1});
    SamplingOptions o;
    o.maxNewTokens = 120;
    const auto ids = model->generate(prompt, o).generatedIds;
    std::ifstream in(fixture("llama2c/golden.txt"), std::ios::binary);
    const std::string golden((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(model->tokenizer()->decodeAfter(1, ids) + "\n", golden);
}

TEST(LlamaTokenizer, MetaspaceVariantOfTokenizerJsonMatchesToo)
{
    // Newer Llama/Mistral tokenizer.json files express the same scheme as a Metaspace
    // pre-tokenizer (prepend_scheme "first", split false) instead of the Prepend/Replace normalizer.
    std::ifstream in(fixture("llama-tokenizer/tokenizer.json"));
    nlohmann::json j = nlohmann::json::parse(in);
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = {
        {"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "first"}, {"split", false}};
    spyglass::test::TempDir dir;
    spyglass::test::writeFile(dir / "tokenizer.json", j.dump());
    auto tok = Tokenizer::loadFromFolder(dir.path());
    for (const auto& c : cases()) {
        if (c.contains("special_token_text")) continue;
        EXPECT_EQ(tok->encode(c["text"].get<std::string>()).ids, c["ids"].get<std::vector<int>>()) << c["text"];
    }
}
