// tokenizer.json pipelines beyond GPT-2's: Split (regex and string, every behaviour), Digits with
// individual_digits, Sequence, ByteLevel without regex, TemplateProcessing BOS, add_bos_token.
#include "test_support.h"

#include "spyglass/error.h"
#include "spyglass/tokenizer.h"
#include "tokenize/byte_unicode.h"
#include "tokenize/pre_tokenizer.h"

#include <nlohmann/json.hpp>

using namespace spyglass::core;
using nlohmann::json;
using spyglass::test::TempDir;
using spyglass::test::writeFile;

namespace {

std::vector<std::string> pieces(const PreTokenizer& p, const std::string& text)
{
    std::vector<std::string> out;
    for (auto [b, e] : p.splitAll(text, {{0, text.size()}})) out.push_back(text.substr(b, e - b));
    return out;
}

using Pieces = std::vector<std::string>;

// A complete byte-level vocabulary (ids 0-255) plus "Ġt"(256) "he"(257) "Ġthe"(258) "12"(259) "<s>"(260).
json tinyTokenizer(const json& preTokenizer)
{
    json vocab = json::object();
    for (int b = 0; b < 256; ++b) vocab[byteToUnicode(static_cast<unsigned char>(b))] = b;
    vocab["Ġt"] = 256;
    vocab["he"] = 257;
    vocab["Ġthe"] = 258;
    vocab["12"] = 259;
    return {{"version", "1.0"},
            {"normalizer", nullptr},
            {"pre_tokenizer", preTokenizer},
            {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"Ġ t", "h e", "Ġt he", "1 2"}}}},
            {"added_tokens", {{{"id", 260}, {"content", "<s>"}, {"special", true}}}},
            {"decoder", {{"type", "ByteLevel"}}}};
}

std::unique_ptr<Tokenizer> write(const TempDir& dir, const json& j)
{
    writeFile(dir / "tokenizer.json", j.dump());
    return Tokenizer::loadFromFolder(dir.path());
}

}  // namespace

TEST(PreTokenizer, Gpt2PatternUsesUnicodeWhiteSpace)
{
    RegexPreTokenizer p(gpt2SplitPattern(), SplitBehavior::Isolated, false);
    EXPECT_EQ(pieces(p, "Hello  world's 123!!"), (Pieces{"Hello", " ", " world", "'s", " 123", "!!"}));
    // U+0085 and U+000B are white space for Python's `regex` (ICU's \s lacks them).
    EXPECT_EQ(pieces(p,
                     "a\xC2\x85"
                     "b"),
              (Pieces{"a", "\xC2\x85", "b"}));
    EXPECT_EQ(pieces(p, "a\vb"), (Pieces{"a", "\v", "b"}));
}

TEST(PreTokenizer, SplitBehaviours)
{
    const std::string text = "a-b--c";
    auto split = [&](SplitBehavior b, bool invert = false) { return pieces(RegexPreTokenizer("-", b, invert), text); };
    EXPECT_EQ(split(SplitBehavior::Removed), (Pieces{"a", "b", "c"}));
    EXPECT_EQ(split(SplitBehavior::Isolated), (Pieces{"a", "-", "b", "-", "-", "c"}));
    EXPECT_EQ(split(SplitBehavior::MergedWithPrevious), (Pieces{"a-", "b-", "-", "c"}));
    EXPECT_EQ(split(SplitBehavior::MergedWithNext), (Pieces{"a", "-b", "-", "-c"}));
    EXPECT_EQ(split(SplitBehavior::Contiguous), (Pieces{"a", "-", "b", "--", "c"}));
    EXPECT_EQ(split(SplitBehavior::Removed, true), (Pieces{"-", "-", "-"}));  // each match stays its own piece
}

TEST(PreTokenizer, DigitsIndividuallyInASequence)
{
    TempDir dir;
    const json pre = {
        {"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Digits"}, {"individual_digits", true}}, {{"type", "ByteLevel"}, {"add_prefix_space", false}}}}};
    auto tok = write(dir, tinyTokenizer(pre));
    // "12" would merge, but every digit is its own piece.
    const Encoding e = tok->encode("x 123 the");
    EXPECT_EQ(e.ids, (std::vector<int>{'x', ' ', '1', '2', '3', 258}));
}

TEST(PreTokenizer, MergesApplyWithoutDigitSplitting)
{
    TempDir dir;
    auto tok = write(dir, tinyTokenizer({{"type", "ByteLevel"}, {"add_prefix_space", false}}));
    EXPECT_EQ(tok->encode("123 the").ids, (std::vector<int>{259, '3', 258}));
    EXPECT_EQ(tok->decode({259, '3', 258}), "123 the");
}

TEST(PreTokenizer, AddPrefixSpaceKeepsOffsetsInTheInput)
{
    TempDir dir;
    auto tok = write(dir, tinyTokenizer({{"type", "ByteLevel"}, {"add_prefix_space", true}}));
    const Encoding e = tok->encode("the");
    EXPECT_EQ(e.ids, (std::vector<int>{258}));
    EXPECT_EQ(e.offsets[0], (std::pair<size_t, size_t>{0, 3}));
}

TEST(PreTokenizer, TemplateProcessingAddsBos)
{
    TempDir dir;
    json j = tinyTokenizer({{"type", "ByteLevel"}});
    j["post_processor"] = {
        {"type", "TemplateProcessing"},
        {"single",
         {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {260}}, {"tokens", {"<s>"}}}}}}};
    auto tok = write(dir, j);
    EXPECT_TRUE(tok->addsBos());
    EXPECT_EQ(tok->bosId(), 260);
    const Encoding e = tok->encode("he");
    EXPECT_EQ(e.ids, (std::vector<int>{260, 257}));
    EXPECT_EQ(e.offsets[0], (std::pair<size_t, size_t>{0, 0}));
    // tokenizer_config.json can switch it off.
    writeFile(dir / "tokenizer_config.json", R"({"add_bos_token": false, "bos_token": "<s>"})");
    EXPECT_FALSE(Tokenizer::loadFromFolder(dir.path())->addsBos());
}

TEST(PreTokenizer, UnsupportedPiecesAreNamed)
{
    TempDir dir;
    try {
        (void)write(dir, tinyTokenizer({{"type", "BertPreTokenizer"}}));
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("pre-tokenizer 'BertPreTokenizer' is not supported"), std::string::npos)
            << e.what();
    }
    json j = tinyTokenizer({{"type", "ByteLevel"}});
    j["normalizer"] = {{"type", "NFKC"}};
    try {
        (void)write(dir, j);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("normalizer 'NFKC' is not supported"), std::string::npos) << e.what();
    }
}

TEST(PreTokenizer, Llama3StyleSplitRegexCompilesAndSplits)
{
    // Llama 3 / Qwen2 byte-level tokenizers: case-insensitive contractions, numbers in runs of ≤ 3.
    const std::string pattern =
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    RegexPreTokenizer p(pattern, SplitBehavior::Isolated, false);
    EXPECT_EQ(pieces(p, "Hello world 12345!! IT'S"), (Pieces{"Hello", " world", " ", "123", "45", "!!", " IT", "'S"}));
}
