// GPT-2 tokenizer parity: every case of the reference cases.jsonl, from vocab.json + merges.txt
// and from tokenizer.json, encode and decode exact; byte offsets exact (issue #2).
#include "test_support.h"

#include "spyglass/error.h"
#include "spyglass/tokenizer.h"

#include <nlohmann/json.hpp>

#include <fstream>

using namespace spyglass::core;
using spyglass::test::fixture;

namespace {

struct Case {
    std::string text;
    std::vector<int> ids;
    std::vector<int> specialIds;  // ids when <|endoftext|> is a special token
};

std::vector<Case> loadCases()
{
    std::ifstream in(fixture("gpt2-tokenizer/cases.jsonl"));
    std::vector<Case> cases;
    std::string line;
    while (std::getline(in, line)) {
        const auto j = nlohmann::json::parse(line);
        Case c{j["text"].get<std::string>(), j["ids"].get<std::vector<int>>(), {}};
        c.specialIds = j.contains("ids_if_endoftext_is_special")
                           ? j["ids_if_endoftext_is_special"].get<std::vector<int>>()
                           : c.ids;
        cases.push_back(std::move(c));
    }
    return cases;
}

void expectOffsetsExact(const Tokenizer& tok, const std::string& text, const Encoding& e)
{
    ASSERT_EQ(e.ids.size(), e.offsets.size());
    size_t cursor = 0;
    for (size_t i = 0; i < e.ids.size(); ++i) {
        const auto [b, end] = e.offsets[i];
        ASSERT_EQ(b, cursor) << "token " << i << " of '" << text << "'";
        ASSERT_EQ(text.substr(b, end - b), tok.tokenBytes(e.ids[i])) << "token " << i << " of '" << text << "'";
        cursor = end;
    }
    EXPECT_EQ(cursor, text.size());
}

}  // namespace

TEST(Gpt2Tokenizer, AllReferenceCasesFromVocabAndMerges)
{
    auto tok = Tokenizer::loadFromFolder(fixture("gpt2-tiny-random"));
    ASSERT_TRUE(tok);
    const auto cases = loadCases();
    ASSERT_EQ(cases.size(), 227u);
    EXPECT_FALSE(tok->addsBos());
    for (const auto& c : cases) {
        const Encoding e = tok->encode(c.text);
        EXPECT_EQ(e.ids, c.ids) << c.text;
        EXPECT_EQ(tok->decode(c.ids), c.text);
        expectOffsetsExact(*tok, c.text, e);
    }
}

TEST(Gpt2Tokenizer, AllReferenceCasesFromTokenizerJson)
{
    auto tok = Tokenizer::loadFromFolder(fixture("gpt2-tokenizer"));
    ASSERT_TRUE(tok);
    EXPECT_EQ(tok->vocabSize(), 50257);
    EXPECT_FALSE(tok->addsBos());
    for (const auto& c : loadCases()) {
        const Encoding e = tok->encode(c.text);
        EXPECT_EQ(e.ids, c.specialIds) << c.text;  // <|endoftext|> is a special added token here
        EXPECT_EQ(tok->decode(c.specialIds), c.text);
        expectOffsetsExact(*tok, c.text, e);
    }
}

TEST(Gpt2Tokenizer, SpecialTokenBehaviourIsDocumented)
{
    auto plain = Tokenizer::loadFromFolder(fixture("gpt2-tiny-random"));
    auto json = Tokenizer::loadFromFolder(fixture("gpt2-tokenizer"));
    EXPECT_EQ(plain->encode("Hello<|endoftext|>World").ids,
              (std::vector<int>{15496, 27, 91, 437, 1659, 5239, 91, 29, 10603}));
    EXPECT_EQ(json->encode("Hello<|endoftext|>World").ids, (std::vector<int>{15496, 50256, 10603}));
    EXPECT_EQ(json->encode("Hello<|endoftext|>World").offsets[1], (std::pair<size_t, size_t>{5, 18}));
}

TEST(Gpt2Tokenizer, InvalidUtf8IsTokenizedByteExactWithoutCrashing)
{
    auto tok = Tokenizer::loadFromFolder(fixture("gpt2-tiny-random"));
    const std::string bad = "ok \xff\xfe caf\xc3 \xe2\x82 end\x80";
    EXPECT_FALSE(isValidUtf8(bad));
    const Encoding e = tok->encode(bad);
    EXPECT_EQ(tok->decode(e.ids), bad);
    expectOffsetsExact(*tok, bad, e);
    for (int id : e.ids) EXPECT_TRUE(isValidUtf8(tok->tokenText(id)));
    EXPECT_EQ(sanitizeUtf8("a\xff"
                           "b"),
              "a\xEF\xBF\xBD"
              "b");
}

TEST(Gpt2Tokenizer, TokenTextReplacesSplitCharacters)
{
    auto tok = Tokenizer::loadFromFolder(fixture("gpt2-tiny-random"));
    // "🤗" is split over several byte tokens; each shows U+FFFD, their concatenation decodes back.
    const Encoding e = tok->encode("🤗");
    ASSERT_GT(e.ids.size(), 1u);
    EXPECT_EQ(tok->tokenText(e.ids[0]).find("\xEF\xBF\xBD"), 0u);
    EXPECT_EQ(tok->decode(e.ids), "🤗");
}

TEST(Gpt2Tokenizer, FolderErrors)
{
    spyglass::test::TempDir dir;
    EXPECT_EQ(Tokenizer::loadFromFolder(dir.path()), nullptr);
    spyglass::test::writeFile(dir / "vocab.json", "{}");
    try {
        (void)Tokenizer::loadFromFolder(dir.path());
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("vocab.json but no merges.txt"), std::string::npos);
    }
    spyglass::test::writeFile(dir / "merges.txt", "#version: 0.2\na b\n");
    try {
        (void)Tokenizer::loadFromFolder(dir.path());
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("merges.txt: merge 1 ('a b') uses a token that is not in the vocabulary"),
                  std::string::npos)
            << e.what();
    }
    spyglass::test::writeFile(dir / "tokenizer.json", "{\"model\": ");
    try {
        (void)Tokenizer::loadFromFolder(dir.path());
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("tokenizer.json: not valid JSON"), std::string::npos) << e.what();
    }
}

// Found by tests/fuzz (llama2c_tokenizer_fuzzer): a piece like "<0xZZ>" looked like a byte piece
// and std::stoi threw std::invalid_argument out of decode(). Now it is an ordinary piece.
TEST(TokenizerFuzzRegressions, NonHexBytePieceDecodes)
{
    const auto file =
        std::filesystem::path(SPYGLASS_FIXTURES_DIR) / "../fuzz/corpus/llama2c_tokenizer/regression-bad-byte-piece";
    try {
        const auto t = Tokenizer::fromLlama2cFile(file);
        const auto e = t->encode("Once upon a time \xe2\x80\x94 123");
        (void)t->decode(e.ids);
    } catch (const Error&) {
        // rejecting the file is fine too
    }
}

// Found by tests/fuzz (vocab_merges_fuzzer): {"a": 146744073703} sized the id tables by the id and
// ran out of memory. Ids outside 0 … 2^24 and sparse vocabularies are refused with a message.
TEST(TokenizerFuzzRegressions, HugeOrSparseIdsAreRefused)
{
    spyglass::test::TempDir dir;
    spyglass::test::writeFile(dir / "merges.txt", "#version: 0.2\n");
    spyglass::test::writeFile(dir / "vocab.json", R"({"a": 146744073703})");
    try {
        (void)Tokenizer::fromVocabMerges(dir / "vocab.json", dir / "merges.txt");
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("has id 146744073703, outside 0 … 16777215"), std::string::npos)
            << e.what();
    }
    spyglass::test::writeFile(dir / "vocab.json", R"({"a": 0, "b": 9000000})");
    try {
        (void)Tokenizer::fromVocabMerges(dir / "vocab.json", dir / "merges.txt");
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("not dense"), std::string::npos) << e.what();
    }
}
