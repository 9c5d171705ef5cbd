// safetensors reader/writer: round trips, dtype conversion, and one test per malformed-file kind
// with the message asserted (issue #2).
#include "test_support.h"

#include "spyglass/error.h"
#include "spyglass/safetensors.h"

#include <cstring>
#include <filesystem>
#include <iostream>

using namespace spyglass::core;
using spyglass::test::TempDir;
using spyglass::test::writeFile;

namespace {

std::string rawFile(const std::string& header, const std::string& data)
{
    const uint64_t n = header.size();
    std::string out(8, '\0');
    std::memcpy(out.data(), &n, 8);
    return out + header + data;
}

std::string openError(const std::filesystem::path& path)
{
    try {
        (void)SafetensorsFile::open(path);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

std::string errorFor(const TempDir& dir, const std::string& bytes)
{
    const auto path = dir / "bad.safetensors";
    writeFile(path, bytes);
    return openError(path);
}

}  // namespace

TEST(Safetensors, RoundTripsFloatIntAndMetadata)
{
    TempDir dir;
    SafetensorsWriter w;
    w.addFloat("a", {{2, 3}, {1, 2, 3, 4, 5, 6}});
    w.addInt64("ids", {7, -8, 9});
    w.setMetadata("format", "pt");
    w.write(dir / "x.safetensors");
    auto f = SafetensorsFile::open(dir / "x.safetensors");
    EXPECT_EQ(f->metadata().at("format"), "pt");
    const HostTensor a = f->readFloat("a");
    EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
    EXPECT_FLOAT_EQ(a.at({1, 2}), 6.0F);
    EXPECT_EQ(f->readInt64("ids"), (std::vector<int64_t>{7, -8, 9}));
    // The data section starts 8-byte aligned.
    EXPECT_EQ(reinterpret_cast<uintptr_t>(f->get("a").data) % 8, 0u);
}

TEST(Safetensors, ConvertsHalfAndBFloat16)
{
    TempDir dir;
    const HostTensor values{{6}, {0.0F, 1.0F, -2.5F, 65504.0F, 1e-6F, 3.14159F}};
    SafetensorsWriter w;
    w.addFloat("h", values, DType::F16);
    w.addFloat("b", values, DType::BF16);
    w.write(dir / "x.safetensors");
    auto f = SafetensorsFile::open(dir / "x.safetensors");
    EXPECT_EQ(f->get("h").dtype, DType::F16);
    EXPECT_EQ(f->get("b").dtype, DType::BF16);
    const HostTensor h = f->readFloat("h"), b = f->readFloat("b");
    for (size_t i = 0; i < values.values.size(); ++i) {
        EXPECT_NEAR(h.values[i], values.values[i], 1e-3 * std::abs(values.values[i]) + 6e-8) << i;
        EXPECT_NEAR(b.values[i], values.values[i], 8e-3 * std::abs(values.values[i])) << i;
    }
    EXPECT_EQ(floatToHalf(1.0F), 0x3c00);
    EXPECT_EQ(floatToHalf(-2.0F), 0xc000);
    EXPECT_EQ(floatToHalf(65520.0F), 0x7c00);  // rounds to Inf
    EXPECT_EQ(floatToBFloat16(1.0F), 0x3f80);
}

TEST(Safetensors, WriteIsAtomicAndLeavesNoTemporaryFile)
{
    TempDir dir;
    writeFile(dir / "x.safetensors", "previous");
    SafetensorsWriter w;
    w.addFloat("a", {{1}, {1}});
    w.write(dir / "x.safetensors");
    size_t files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
    EXPECT_EQ(files, 1u);
    EXPECT_NO_THROW((void)SafetensorsFile::open(dir / "x.safetensors"));
}

TEST(SafetensorsMalformed, Truncated)
{
    TempDir dir;
    const std::string msg = errorFor(dir, "abc");
    EXPECT_NE(msg.find("bad.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

TEST(SafetensorsMalformed, HeaderLengthPastTheFile)
{
    TempDir dir;
    std::string bytes = rawFile("{}", "");
    const uint64_t huge = 5000;
    std::memcpy(bytes.data(), &huge, 8);
    EXPECT_NE(errorFor(dir, bytes).find("header length 5000 runs past the end of the file"), std::string::npos);
}

TEST(SafetensorsMalformed, HugeHeaderLengthIsCapped)
{
    TempDir dir;
    const auto path = dir / "huge.safetensors";
    const uint64_t length = SafetensorsFile::kMaxHeaderBytes + 1;
    writeFile(path, rawFile("{}", ""));
    std::filesystem::resize_file(path, length + 64);  // sparse: cheap
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.write(reinterpret_cast<const char*>(&length), 8);
    }
    EXPECT_NE(openError(path).find("exceeds the limit"), std::string::npos) << openError(path);
}

TEST(SafetensorsMalformed, BadJson)
{
    TempDir dir;
    EXPECT_NE(errorFor(dir, rawFile("{\"a\": [", "")).find("header is not valid JSON"), std::string::npos);
    EXPECT_NE(errorFor(dir, rawFile("[1,2]", "")).find("header is not a JSON object"), std::string::npos);
}

TEST(SafetensorsMalformed, UnknownDtype)
{
    TempDir dir;
    const std::string msg =
        errorFor(dir, rawFile(R"({"w":{"dtype":"F8_E4M3X","shape":[1],"data_offsets":[0,1]}})", "x"));
    EXPECT_NE(msg.find("tensor 'w'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("unknown dtype 'F8_E4M3X'"), std::string::npos) << msg;
}

TEST(SafetensorsMalformed, ShapeTimesDtypeSizeDiffersFromByteRange)
{
    TempDir dir;
    const std::string msg =
        errorFor(dir, rawFile(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", std::string(12, '\0')));
    EXPECT_NE(msg.find("tensor 'w': shape × dtype size is 16 bytes but data_offsets span 12 bytes"), std::string::npos)
        << msg;
}

TEST(SafetensorsMalformed, OffsetsOutOfBounds)
{
    TempDir dir;
    const std::string msg =
        errorFor(dir, rawFile(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", std::string(8, '\0')));
    EXPECT_NE(msg.find("tensor 'w': ends past the file (offset 16 > 8"), std::string::npos) << msg;
}

TEST(SafetensorsMalformed, OverlappingTensors)
{
    TempDir dir;
    const std::string msg = errorFor(
        dir,
        rawFile(
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            std::string(12, '\0')));
    EXPECT_NE(msg.find("tensors 'a' and 'b' overlap"), std::string::npos) << msg;
}

TEST(SafetensorsMalformed, ReversedOffsetsNegativeShapeAndOverflow)
{
    TempDir dir;
    EXPECT_NE(errorFor(dir, rawFile(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", std::string(8, '\0')))
                  .find("reversed"),
              std::string::npos);
    EXPECT_NE(errorFor(dir, rawFile(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", std::string(4, '\0')))
                  .find("not a non-negative integer"),
              std::string::npos);
    EXPECT_NE(errorFor(dir, rawFile(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})",
                                    std::string(4, '\0')))
                  .find("overflows"),
              std::string::npos);
}

TEST(SafetensorsMalformed, PickleAndZipAreRefused)
{
    TempDir dir;
    EXPECT_NE(errorFor(dir, std::string("\x80\x02}q\x00.", 6)).find("never unpickles"), std::string::npos);
    EXPECT_NE(errorFor(dir, std::string("PK\x03\x04rest-of-zip", 16)).find("zip archive"), std::string::npos);
}

TEST(SafetensorsMalformed, MissingFileAndDirectory)
{
    TempDir dir;
    EXPECT_NE(openError(dir / "absent.safetensors").find("absent.safetensors: cannot open"), std::string::npos);
    std::filesystem::create_directory(dir / "d.safetensors");
    EXPECT_NE(openError(dir / "d.safetensors").find("is a directory"), std::string::npos);
}

TEST(SafetensorsMalformed, MissingTensorIsNamed)
{
    TempDir dir;
    SafetensorsWriter w;
    w.addFloat("a", {{1}, {1}});
    w.write(dir / "x.safetensors");
    auto f = SafetensorsFile::open(dir / "x.safetensors");
    try {
        (void)f->get("nope");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("has no tensor 'nope'"), std::string::npos);
    }
}

#include "io/sha256.h"

TEST(Sha256, KnownVectorsAndCache)
{
    Sha256 empty;
    EXPECT_EQ(empty.hexDigest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    Sha256 abc;
    abc.update("abc", 3);
    EXPECT_EQ(abc.hexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    TempDir dir;
    std::string million(1000000, 'a');
    writeFile(dir / "a.bin", million);
    EXPECT_EQ(sha256Files({dir / "a.bin"}), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    ::setenv("XDG_CACHE_HOME", (dir / "cache").c_str(), 1);
    EXPECT_EQ(sha256FilesCached({dir / "a.bin"}), sha256Files({dir / "a.bin"}));
    EXPECT_TRUE(std::filesystem::exists(dir / "cache" / "spyglass" / "sha256-cache.json"));
    EXPECT_EQ(sha256FilesCached({dir / "a.bin"}), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    ::unsetenv("XDG_CACHE_HOME");
}

// The SHA-extension path (when the CPU has it) and the portable one give the same digests for
// every length around block boundaries, fed in uneven pieces; both give the FIPS vectors.
TEST(Sha256, HardwareAndPortableImplementationsAgree)
{
    const std::string twoBlocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    for (auto implementation : {Sha256::Implementation::Fastest, Sha256::Implementation::Portable}) {
        Sha256 h(implementation);
        h.update(twoBlocks.data(), twoBlocks.size());
        EXPECT_EQ(h.hexDigest(), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    }
    std::string data(5000, '\0');
    uint32_t x = 12345;
    for (char& c : data) {
        x = x * 1664525u + 1013904223u;
        c = static_cast<char>(x >> 24);
    }
    for (size_t length : {0u, 1u, 55u, 56u, 63u, 64u, 65u, 127u, 128u, 129u, 1000u, 4999u, 5000u}) {
        Sha256 fast, portable(Sha256::Implementation::Portable);
        for (size_t at = 0, piece = 1; at < length; at += piece, piece = piece * 3 % 97 + 1) {
            const size_t take = std::min(piece, length - at);
            fast.update(data.data() + at, take);
            portable.update(data.data() + at, take);
        }
        EXPECT_EQ(fast.hexDigest(), portable.hexDigest()) << length;
    }
    std::cout << "SHA extensions used: " << (Sha256().hardwareAccelerated() ? "yes" : "no") << "\n";
}
