// GGUF files (#15): the reader (metadata of every type, tensor infos, alignment) and hostile
// files, and dequantization of every block format against gguf-py's, which equals ggml's C
// reference exactly (tests/fixtures/gguf/quant-synthetic.*, from ../shared/reference/gguf).
#include "gguf_builder.h"
#include "test_support.h"

#include "io/ggml_types.h"
#include "io/gguf_file.h"
#include "models/gguf_model_source.h"
#include "spyglass/error.h"
#include "spyglass/safetensors.h"
#include "spyglass/tokenizer.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>

using namespace spyglass::core;
using spyglass::test::errorOf;
using spyglass::test::fixture;
using spyglass::test::TempDir;
using spyglass::test::writeFile;

namespace {

std::string errorOpening(const std::filesystem::path& path)
{
    try {
        (void)GgufFile::open(path);
    } catch (const Error& e) {
        return e.what();
    }
    return "(opened)";
}

using Bytes = spyglass::test::GgufBytes;

// GGUF v3 with one u32 key, one string array and one F32 tensor [2, 32] (ne {32, 2}).
Bytes smallFile(uint64_t arrayLength = 2, uint64_t offset = 0, uint32_t type = 0)
{
    Bytes b;
    b.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(1).put<uint64_t>(2);
    b.str("general.alignment").put<uint32_t>(4).put<uint32_t>(32);
    b.str("tokenizer.ggml.tokens").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(arrayLength).str("a").str("b");
    b.str("w").put<uint32_t>(2).put<uint64_t>(32).put<uint64_t>(2).put<uint32_t>(type).put<uint64_t>(offset);
    b.pad(32);
    for (int i = 0; i < 64; ++i) b.put<float>(static_cast<float>(i));
    return b;
}

}  // namespace

TEST(Gguf, DequantizesEveryBlockFormatExactlyAsGgml)
{
    auto gguf = GgufFile::open(fixture("gguf/quant-synthetic.gguf"));
    auto reference = SafetensorsFile::open(fixture("gguf/quant-synthetic.reference.safetensors"));
    int compared = 0;
    for (const auto& view : reference->tensors()) {
        const GgufTensor& t = gguf->tensor(view.name);
        EXPECT_EQ(t.shape, (std::vector<int64_t>{3, 512})) << view.name;
        const std::vector<float> ours = gguf->dequantize(t);
        const HostTensor expected = reference->readFloat(view.name);
        ASSERT_EQ(ours.size(), expected.values.size()) << view.name;
        size_t different = 0;
        for (size_t i = 0; i < ours.size(); ++i)
            different += std::memcmp(&ours[i], &expected.values[i], sizeof(float)) != 0 ? 1 : 0;  // bit for bit
        EXPECT_EQ(different, 0u) << view.name << " (" << ggmlTypeName(t.type) << ")";
        ++compared;
    }
    EXPECT_EQ(compared, 23);  // src, f16, bf16, 5 + 5 formats from the source, 10 random-block tensors
}

TEST(Gguf, ReadsMetadataAndTensorInfos)
{
    auto gguf = GgufFile::open(fixture("gguf/llama-tiny-random.q8_0.gguf"));
    EXPECT_EQ(gguf->version(), 3u);
    EXPECT_EQ(gguf->string("general.architecture"), "llama");
    EXPECT_EQ(gguf->integer("llama.block_count"), 4);
    EXPECT_FLOAT_EQ(static_cast<float>(gguf->number("llama.attention.layer_norm_rms_epsilon")), 1e-5F);
    EXPECT_EQ(gguf->strings("tokenizer.ggml.tokens").size(), 512u);
    EXPECT_EQ(gguf->strings("tokenizer.ggml.tokens")[3], "<0x00>");
    EXPECT_TRUE(gguf->boolean("tokenizer.ggml.add_bos_token"));
    const GgufTensor& embedding = gguf->tensor("token_embd.weight");
    EXPECT_EQ(ggmlTypeName(embedding.type), "Q8_0");
    EXPECT_EQ(embedding.shape, (std::vector<int64_t>{512, 64}));
    // The converter keeps ffn_down in F16: its rows (172) are not whole Q8_0 blocks.
    EXPECT_EQ(ggmlTypeName(gguf->tensor("blk.0.ffn_down.weight").type), "F16");
    EXPECT_NE(errorOf([&] {
                  (void)gguf->tensor("blk.9.attn_q.weight");
              }).find("llama-tiny-random.q8_0.gguf: missing tensor 'blk.9.attn_q.weight'"),
              std::string::npos);
    EXPECT_NE(errorOf([&] {
                  (void)gguf->integer("general.architecture");
              }).find("metadata 'general.architecture': is string, expected an integer"),
              std::string::npos);
}

TEST(Gguf, HandMadeFileAndUnpermutedRows)
{
    TempDir dir;
    writeFile(dir / "small.gguf", smallFile().bytes());
    auto gguf = GgufFile::open(dir / "small.gguf");
    EXPECT_EQ(gguf->strings("tokenizer.ggml.tokens"), (std::vector<std::string>{"a", "b"}));
    const auto values = gguf->dequantize(gguf->tensor("w"));
    ASSERT_EQ(values.size(), 64u);
    EXPECT_EQ(values[33], 33.0F);
    // Inverse of llama.cpp's permute: within a head, GGUF rows 0,1,2,3 are HF rows 0,2,1,3.
    std::vector<float> rows{0, 2, 1, 3};
    unpermuteRotaryRows(rows.data(), 4, 1, 1);
    EXPECT_EQ(rows, (std::vector<float>{0, 1, 2, 3}));
}

TEST(Gguf, HostileFilesFailNamingTheFileAndField)
{
    TempDir dir;
    auto message = [&](const std::string& bytes) {
        writeFile(dir / "bad.gguf", bytes);
        return errorOpening(dir / "bad.gguf");
    };
    EXPECT_NE(message("GGU").find("bad.gguf: magic: the file ends"), std::string::npos);
    EXPECT_NE(message("NOPE1234").find("not a GGUF file"), std::string::npos);
    Bytes bigEndian;
    bigEndian.put<uint32_t>(0x47475546).put<uint32_t>(0x03000000);
    EXPECT_NE(message(bigEndian.bytes()).find("big-endian GGUF"), std::string::npos);
    Bytes v1;
    v1.put<uint32_t>(0x46554747).put<uint32_t>(1);
    EXPECT_NE(message(v1.bytes()).find("GGUF version 1 is not supported"), std::string::npos);
    Bytes counts;
    counts.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(1ull << 60).put<uint64_t>(0);
    EXPECT_NE(message(counts.bytes()).find("tensor_count: 1152921504606846976 tensors cannot fit"), std::string::npos);
    // An array claiming 2^40 strings: refused before allocating anything.
    EXPECT_NE(message(smallFile(1ull << 40).bytes())
                  .find("tokenizer.ggml.tokens: array of 1099511627776 string values cannot fit"),
              std::string::npos);
    EXPECT_NE(message(smallFile(2, 64).bytes()).find("tensor 'w': its 256 bytes at offset 64 run past the end"),
              std::string::npos);
    EXPECT_NE(message(smallFile(2, 3).bytes()).find("tensor 'w': data offset 3 is not a multiple of the alignment 32"),
              std::string::npos);
    EXPECT_NE(message(smallFile(2, 0, 99).bytes()).find("tensor 'w': unknown tensor type 99"), std::string::npos);
    // Q4_K blocks hold 256 values: a row of 32 is not a whole block.
    EXPECT_NE(message(smallFile(2, 0, 12).bytes()).find("row length 32 is not a multiple of the Q4_K block size 256"),
              std::string::npos);
    Bytes str;
    str.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(1).put<uint64_t>(1ull << 50);
    for (int i = 0; i < 4; ++i) str.put<uint64_t>(0);  // room for one key-value pair
    EXPECT_NE(message(str.bytes()).find("metadata key 0: string of 1125899906842624 bytes"), std::string::npos);
    // 2^62 F64 values: the byte count would overflow 64 bits.
    Bytes huge;
    huge.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(1).put<uint64_t>(0);
    huge.str("w").put<uint32_t>(1).put<uint64_t>(1ull << 62).put<uint32_t>(28).put<uint64_t>(0);
    for (int i = 0; i < 8; ++i) huge.put<uint64_t>(0);
    EXPECT_NE(message(huge.bytes()).find("need more bytes than a file can hold"), std::string::npos);
    // A known type Spyglass cannot dequantize yet is named when its tensor is needed.
    EXPECT_NE(errorOf([] {
                  float out[256];
                  dequantizeGgml(16, nullptr, 256, out);
              }).find("type IQ2_XXS cannot be dequantized yet"),
              std::string::npos);
}

// The byte-level BPE pre-tokenizers named by tokenizer.ggml.pre, on the real GPT-2 vocabulary of
// the gpt2 fixture: "qwen2" cuts numbers into single digits (\p{N}), "llama-bpe" into threes
// (\p{N}{1,3}) and "gpt-2" keeps them whole ( ?\p{N}+) for BPE to merge; an unknown name is
// refused naming the file and the choices.
TEST(GgufTokenizer, PreTokenizerNamesSplitNumbersAsLlamaCppDoes)
{
    const auto source = GgufFile::open(fixture("gguf/gpt2-tiny-random.q8_0.gguf"));
    const std::vector<std::string>& tokens = source->strings("tokenizer.ggml.tokens");
    TempDir dir;
    auto tokenizerFor = [&](const std::string& pre) {
        spyglass::test::GgufBuilder g;
        g.str("general.architecture", "gpt2").str("tokenizer.ggml.model", "gpt2").str("tokenizer.ggml.pre", pre);
        g.strings("tokenizer.ggml.tokens", tokens)
            .strings("tokenizer.ggml.merges", source->strings("tokenizer.ggml.merges"));
        const auto path = dir / (pre + ".gguf");
        g.write(path);
        return Tokenizer::fromGguf(*GgufFile::open(path));
    };
    auto id = [&](const std::string& piece) {
        const auto it = std::find(tokens.begin(), tokens.end(), piece);
        EXPECT_NE(it, tokens.end()) << piece;
        return static_cast<int>(it - tokens.begin());
    };
    const std::string number = "1234567";
    EXPECT_EQ(tokenizerFor("qwen2")->encode(number).ids,
              (std::vector<int>{id("1"), id("2"), id("3"), id("4"), id("5"), id("6"), id("7")}));
    const auto llama3 = tokenizerFor("llama-bpe")->encode(number).ids;
    EXPECT_EQ(llama3, (std::vector<int>{id("123"), id("456"), id("7")}));
    EXPECT_NE(tokenizerFor("gpt-2")->encode(number).ids, llama3);
    const std::string unknown = spyglass::test::errorOf([&] { (void)tokenizerFor("deepseek-coder"); });
    EXPECT_NE(unknown.find("deepseek-coder.gguf: tokenizer.ggml.pre 'deepseek-coder' is not supported (supported: "
                           "default, gpt-2, llama-bpe, qwen2)"),
              std::string::npos)
        << unknown;
}
