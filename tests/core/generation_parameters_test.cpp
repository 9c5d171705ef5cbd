// A1111 / Forge generation parameters (#16): the "parameters" text parsed and applied (what cannot
// be honoured said), written back (a Spyglass run's text round-trips), and the PNG text chunk read
// and written (CRC as libpng checks it, tEXt and iTXt, malformed files named).
#include "test_support.h"

#include "spyglass/error.h"
#include "spyglass/generation_parameters.h"
#include "spyglass/heatmap_overlay.h"

#include <fstream>
#include <iterator>

using namespace spyglass::core;
using spyglass::test::errorOf;
using spyglass::test::TempDir;

namespace {

const std::string kA1111 =
    "a photo of a hand, (masterpiece:1.2),\n"
    "detailed fingers <lora:detail:0.6>\n"
    "Negative prompt: blurry, extra fingers\n"
    "Steps: 24, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1234567, Size: 512x768, "
    "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Clip skip: 2, Denoising strength: 0.7, Hires upscale: 2, "
    "Lora hashes: \"detail: 1a2b3c4d, style: 5e6f\", Version: v1.9.4";

std::string readAll(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool hasNote(const std::vector<std::string>& notes, const std::string& fragment)
{
    for (const auto& n : notes)
        if (n.find(fragment) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST(GenerationParameters, A1111TextIsReadAndWhatCannotBeHonouredIsSaid)
{
    const GenerationParameters p = parseGenerationParameters(kA1111);
    EXPECT_EQ(p.prompt, "a photo of a hand, (masterpiece:1.2),\ndetailed fingers <lora:detail:0.6>");
    EXPECT_EQ(p.negativePrompt, "blurry, extra fingers");
    ASSERT_NE(p.field("Lora hashes"), nullptr);
    EXPECT_EQ(*p.field("Lora hashes"), "detail: 1a2b3c4d, style: 5e6f");
    EXPECT_EQ(*p.field("Version"), "v1.9.4");
    EXPECT_EQ(p.fields.size(), 13U);

    DiffusionOptions o;
    const auto notes = applyGenerationParameters(p, o);
    EXPECT_EQ(o.steps, 24);
    EXPECT_EQ(o.scheduler, "dpmpp_2m_karras");
    EXPECT_DOUBLE_EQ(o.guidance, 6.5);
    EXPECT_EQ(o.seed, 1234567U);
    EXPECT_EQ(o.width, 512);
    EXPECT_EQ(o.height, 768);
    EXPECT_EQ(o.clipSkip, 2);
    EXPECT_TRUE(o.promptWeights);
    EXPECT_TRUE(hasNote(notes, "A1111's default: GPU")) << notes.size();
    EXPECT_TRUE(hasNote(notes, "Denoising strength (0.7) is not supported"));
    EXPECT_TRUE(hasNote(notes, "Hires upscale (2) is not supported"));
    EXPECT_TRUE(hasNote(notes, "model hash 6ce0161689 ('v1-5-pruned-emaonly')"));
    EXPECT_TRUE(hasNote(notes, "made with LoRAs detail: 1a2b3c4d"));

    // An image made with the CPU generator reproduces: no noise note. Odd values are said, not used.
    DiffusionOptions cpu;
    const auto cpuNotes = applyGenerationParameters(
        parseGenerationParameters(
            "a cat\nSteps: x2, Sampler: DPM++ 2M SDE, CFG scale: high, Seed: 7, Size: 5 12, RNG: CPU"),
        cpu);
    EXPECT_FALSE(hasNote(cpuNotes, "GPU"));
    EXPECT_TRUE(hasNote(cpuNotes, "Steps 'x2' is not a whole number"));
    EXPECT_TRUE(hasNote(cpuNotes, "Sampler 'DPM++ 2M SDE' has no diffusers equivalent"));
    EXPECT_TRUE(hasNote(cpuNotes, "CFG scale 'high' is not a number"));
    EXPECT_TRUE(hasNote(cpuNotes, "Size '5 12' is not WxH"));
    EXPECT_EQ(cpu.steps, 20);
    EXPECT_EQ(cpu.seed, 7U);
    // Seeds are integers to 2^64 - 1 exactly; larger ones (a fuzzing finding: UB in the double → uint64
    // cast) are said, not used.
    DiffusionOptions big;
    (void)applyGenerationParameters(parseGenerationParameters("a cat\nSteps: 20, Seed: 18446744073709551615"), big);
    EXPECT_EQ(big.seed, 18446744073709551615ULL);
    const auto tooBig =
        applyGenerationParameters(parseGenerationParameters("a cat\nSteps: 20, Seed: 418446744073709551615"), big);
    EXPECT_TRUE(hasNote(tooBig, "Seed '418446744073709551615' is not a whole number"));
    EXPECT_EQ(big.seed, 18446744073709551615ULL);
    EXPECT_EQ(cpu.prompt, "a cat");
    // Text without a parameters line is all prompt.
    EXPECT_EQ(parseGenerationParameters("just a prompt").prompt, "just a prompt");
    EXPECT_TRUE(parseGenerationParameters("just a prompt").fields.empty());

    // A Spyglass run's text reads back to the same options.
    DiffusionOptions mine;
    mine.prompt = "a red circle, \"quoted\"";
    mine.negativePrompt = "blue";
    mine.steps = 12;
    mine.guidance = 5.5;
    mine.seed = 99;
    mine.clipSkip = 2;
    DiffusionResult r;
    r.width = 64;
    r.height = 96;
    r.schedulerName = "euler_karras";
    const std::string text = formatGenerationParameters(generationParametersOf(mine, r, "sd-tiny"));
    EXPECT_NE(text.find("Sampler: Euler, Schedule type: Karras, CFG scale: 5.5, Seed: 99, Size: 64x96, Model: sd-tiny, "
                        "Clip skip: 2, RNG: CPU, Version: Spyglass "),
              std::string::npos)
        << text;
    DiffusionOptions back;
    EXPECT_TRUE(applyGenerationParameters(parseGenerationParameters(text), back).empty());
    EXPECT_EQ(back.prompt, mine.prompt);
    EXPECT_EQ(back.negativePrompt, "blue");
    EXPECT_EQ(back.steps, 12);
    EXPECT_EQ(back.scheduler, "euler_karras");
    EXPECT_DOUBLE_EQ(back.guidance, 5.5);
    EXPECT_EQ(back.seed, 99U);
    EXPECT_EQ(back.width, 64);
    EXPECT_EQ(back.clipSkip, 2);
}

TEST(GenerationParameters, PngTextChunksAreWrittenAndReadAsLibpngDoes)
{
    TempDir dir;
    const std::vector<uint8_t> rgb(8 * 4 * 3, 200);
    writeRgbPng(rgb, 8, 4, dir / "ascii.png", kA1111);
    const std::string bytes = readAll(dir / "ascii.png");
    EXPECT_EQ(readPngText(bytes, "parameters", "ascii.png"), kA1111);
    EXPECT_EQ(readPngText(bytes, "prompt", "ascii.png"), std::nullopt);
    int w = 0, h = 0;
    EXPECT_EQ(readRgbImage(dir / "ascii.png", w, h), rgb);  // libpng accepts the chunk (its CRC)
    EXPECT_EQ(bytes.find("tEXtparameters"), bytes.rfind("IEND") - 4 - kA1111.size() - 15 - 4);  // before IEND
    // IEND's CRC is the well-known AE 42 60 82: the chunk writer's CRC is PNG's.
    EXPECT_EQ(bytes.substr(bytes.size() - 4), std::string("\xAE\x42\x60\x82", 4));

    const std::string unicode = "ein Foto einer Hand, Größe 5 ✋\nSteps: 2, RNG: CPU";
    writeRgbPng(rgb, 8, 4, dir / "utf8.png", unicode);
    EXPECT_NE(readAll(dir / "utf8.png").find("iTXtparameters"), std::string::npos);
    EXPECT_EQ(readPngText(readAll(dir / "utf8.png"), "parameters", "utf8.png"), unicode);
    EXPECT_EQ(readRgbImage(dir / "utf8.png", w, h), rgb);

    // A Latin-1 tEXt chunk (as PIL writes "é") reads as UTF-8.
    std::string latin = bytes;
    const size_t at = latin.find("tEXtparameters") + 15;
    latin[at] = static_cast<char>(0xE9);
    EXPECT_EQ(readPngText(latin, "parameters", "latin.png")->substr(0, 2), "\xC3\xA9");

    EXPECT_NE(errorOf([&] { (void)readPngText("GIF89a....", "parameters", "x.gif"); }).find("x.gif: not a PNG file"),
              std::string::npos);
    EXPECT_NE(errorOf([&] {
                  (void)readPngText(bytes.substr(0, at + 10), "parameters", "cut.png");
              }).find("cut.png: PNG chunk at byte"),
              std::string::npos);
    std::string compressed = bytes;
    compressed.replace(compressed.find("tEXtparameters"), 4, "zTXt");
    EXPECT_NE(errorOf([&] { (void)readPngText(compressed, "parameters", "z.png"); }).find("compressed (zTXt)"),
              std::string::npos);
}
