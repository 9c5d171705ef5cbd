#include "spyglass/generation_parameters.h"

#include "spyglass/error.h"
#include "spyglass/scheduler_names.h"
#include "spyglass/version.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace spyglass::core {

namespace {

bool lineStartsWith(const std::string& s, const std::string& prefix)
{
    return s.compare(0, prefix.size(), prefix) == 0;
}

std::string trimmed(const std::string& s)
{
    const size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// A1111's "Key: value, Key: "quoted, value", …" line.
std::vector<std::pair<std::string, std::string>> parseFields(const std::string& line)
{
    std::vector<std::pair<std::string, std::string>> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == ',')) ++i;
        const size_t colon = line.find(':', i);
        if (colon == std::string::npos) break;
        const std::string key = trimmed(line.substr(i, colon - i));
        i = colon + 1;
        while (i < line.size() && line[i] == ' ') ++i;
        std::string value;
        if (i < line.size() && line[i] == '"') {
            ++i;
            while (i < line.size() && line[i] != '"') {
                if (line[i] == '\\' && i + 1 < line.size()) ++i;
                value += line[i++];
            }
            ++i;  // the closing quote
            while (i < line.size() && line[i] != ',') ++i;
        } else {
            const size_t comma = line.find(',', i);
            value = trimmed(line.substr(i, comma == std::string::npos ? std::string::npos : comma - i));
            i = comma == std::string::npos ? line.size() : comma;
        }
        if (!key.empty()) out.emplace_back(key, value);
    }
    return out;
}

std::string quoteIfNeeded(const std::string& value)
{
    if (value.find_first_of(",:\"") == std::string::npos) return value;
    std::string out = "\"";
    for (char c : value) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::optional<double> number(const std::string& s)
{
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

std::string numberText(double v)
{
    std::ostringstream s;
    s << v;
    return s.str();
}

uint32_t crc32(const std::string& bytes, size_t begin, size_t end)
{
    static const std::array<uint32_t, 256> table = [] {
        std::array<uint32_t, 256> t{};
        for (uint32_t n = 0; n < 256; ++n) {
            uint32_t c = n;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }();
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = begin; i < end; ++i) c = table[(c ^ static_cast<uint8_t>(bytes[i])) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

uint32_t bigEndian(const std::string& b, size_t at)
{
    return (uint32_t(uint8_t(b[at])) << 24) | (uint32_t(uint8_t(b[at + 1])) << 16) |
           (uint32_t(uint8_t(b[at + 2])) << 8) | uint32_t(uint8_t(b[at + 3]));
}

void putBigEndian(std::string& out, uint32_t v)
{
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xFF);
}

const std::string kSignature("\x89PNG\r\n\x1a\n", 8);

std::string latin1ToUtf8(const std::string& s)
{
    std::string out;
    for (unsigned char c : s) {
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            out += static_cast<char>(0xC0 | (c >> 6));
            out += static_cast<char>(0x80 | (c & 0x3F));
        }
    }
    return out;
}

// The A1111 name of a Spyglass sampler and its schedule type.
std::pair<std::string, std::string> a1111Sampler(const std::string& shortName)
{
    if (shortName == "ddim") return {"DDIM", ""};
    if (shortName == "euler") return {"Euler", ""};
    if (shortName == "euler_karras") return {"Euler", "Karras"};
    if (shortName == "euler_a") return {"Euler a", ""};
    if (shortName == "dpmpp_2m") return {"DPM++ 2M", "Uniform"};
    if (shortName == "dpmpp_2m_karras") return {"DPM++ 2M", "Karras"};
    if (shortName == "pndm") return {"PLMS", ""};
    return {shortName, ""};
}

}  // namespace

const std::string* GenerationParameters::field(const std::string& key) const
{
    for (const auto& [k, v] : fields)
        if (k == key) return &v;
    return nullptr;
}

GenerationParameters parseGenerationParameters(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
    }
    GenerationParameters p;
    size_t end = lines.size();
    for (size_t i = lines.size(); i-- > 0;) {
        if (lineStartsWith(lines[i], "Steps: ")) {
            p.fields = parseFields(lines[i]);
            end = i;
            break;
        }
    }
    bool negative = false;
    for (size_t i = 0; i < end; ++i) {
        std::string line = lines[i];
        if (!negative && lineStartsWith(line, "Negative prompt:")) {
            negative = true;
            p.negativePrompt = trimmed(line.substr(16));
            continue;
        }
        std::string& target = negative ? p.negativePrompt : p.prompt;
        if (!target.empty() || (negative ? false : i > 0)) target += "\n";
        target += line;
    }
    p.prompt = trimmed(p.prompt);
    p.negativePrompt = trimmed(p.negativePrompt);
    return p;
}

std::string formatGenerationParameters(const GenerationParameters& p)
{
    std::string out = p.prompt + "\n";
    if (!p.negativePrompt.empty()) out += "Negative prompt: " + p.negativePrompt + "\n";
    std::string line;
    for (const auto& [key, value] : p.fields) line += (line.empty() ? "" : ", ") + key + ": " + quoteIfNeeded(value);
    return out + line;
}

std::vector<std::string> applyGenerationParameters(const GenerationParameters& p, DiffusionOptions& o)
{
    std::vector<std::string> notes;
    o.prompt = p.prompt;
    o.negativePrompt = p.negativePrompt;
    o.promptWeights = true;  // A1111 reads (x:1.2) emphasis in every prompt
    auto integer = [&](const char* key, auto apply) {
        const std::string* v = p.field(key);
        if (!v) return;
        const auto n = number(*v);
        if (!n || *n != std::floor(*n) || *n < 0) {
            notes.push_back(std::string(key) + " '" + *v + "' is not a whole number; not used");
            return;
        }
        apply(*n);
    };
    integer("Steps", [&](double n) { o.steps = static_cast<int>(std::min(n, 100000.0)); });
    if (const std::string* v = p.field("Seed")) {
        // Parsed as an integer: seeds above 2^53 are not exact as doubles (and above 2^64 do not fit).
        uint64_t seed = 0;
        const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), seed);
        if (ec == std::errc() && end == v->data() + v->size() && !v->empty())
            o.seed = seed;
        else
            notes.push_back("Seed '" + *v + "' is not a whole number from 0 to 18446744073709551615; not used");
    }
    integer("Clip skip", [&](double n) { o.clipSkip = static_cast<int>(std::min(n, 1000.0)); });
    if (const std::string* v = p.field("CFG scale")) {
        if (const auto n = number(*v)) {
            o.guidance = *n;
        } else {
            notes.push_back("CFG scale '" + *v + "' is not a number; not used");
        }
    }
    if (const std::string* v = p.field("Size")) {
        int w = 0, h = 0;
        char x = 0, extra = 0;
        std::istringstream s(*v);
        if ((s >> w >> x >> h) && x == 'x' && !(s >> extra) && w > 0 && h > 0) {
            o.width = w;
            o.height = h;
        } else {
            notes.push_back("Size '" + *v + "' is not WxH; not used");
        }
    }
    const std::string* sampler = p.field("Sampler");
    const std::string* schedule = p.field("Schedule type");
    if (sampler) {
        if (const auto choice = parseSchedulerName(*sampler, schedule ? *schedule : "")) {
            o.scheduler = choice->shortName;
        } else {
            notes.push_back("Sampler '" + *sampler + (schedule ? "' with schedule type '" + *schedule : std::string()) +
                            "' has no diffusers equivalent here; the model's scheduler is used (" +
                            schedulerNamesText() + ")");
        }
    }
    const std::string* rng = p.field("RNG");
    if (!rng || *rng != "CPU")
        notes.push_back("RNG " + (rng ? "'" + *rng + "'" : std::string("not given (A1111's default: GPU)")) +
                        ": A1111 drew this seed's noise on the GPU, Spyglass draws the CPU noise of the same seed, so "
                        "the image differs (images made with 'RNG: CPU' reproduce)");
    for (const char* key : {"Hires upscale",
                            "Hires steps",
                            "Hires upscaler",
                            "Denoising strength",
                            "Face restoration",
                            "Variation seed",
                            "Variation seed strength",
                            "Seed resize from",
                            "ENSD",
                            "Eta",
                            "Eta DDIM",
                            "Refiner",
                            "Refiner switch at",
                            "Schedule max sigma",
                            "Schedule min sigma",
                            "Schedule rho",
                            "Token merging ratio",
                            "Mask blur",
                            "Sigma churn",
                            "s_churn",
                            "s_noise"})
        if (const std::string* v = p.field(key))
            notes.push_back(std::string(key) + " (" + *v + ") is not supported; not used");
    if (const std::string* v = p.field("Emphasis"); v && *v != "Original")
        notes.push_back("Emphasis '" + *v + "' is not supported; A1111's original emphasis is used");
    if (const std::string* v = p.field("Model hash"))
        notes.push_back("made with model hash " + *v +
                        (p.field("Model") ? " ('" + *p.field("Model") + "')" : std::string()) +
                        ": check that it is the model you opened");
    if (const std::string* v = p.field("Lora hashes"))
        notes.push_back("made with LoRAs " + *v + ": the prompt's <lora:…> tags load them from your LoRA folder");
    return notes;
}

GenerationParameters generationParametersOf(const DiffusionOptions& o, const DiffusionResult& r,
                                            const std::string& model)
{
    GenerationParameters p;
    p.prompt = o.prompt;
    p.negativePrompt = o.negativePrompt;
    const auto [sampler, schedule] = a1111Sampler(r.schedulerName);
    p.fields.emplace_back("Steps", std::to_string(o.steps));
    p.fields.emplace_back("Sampler", sampler);
    if (!schedule.empty()) p.fields.emplace_back("Schedule type", schedule);
    p.fields.emplace_back("CFG scale", numberText(o.guidance));
    if (!o.initLatents) p.fields.emplace_back("Seed", std::to_string(o.seed));
    p.fields.emplace_back("Size", std::to_string(r.width) + "x" + std::to_string(r.height));
    if (!model.empty()) p.fields.emplace_back("Model", model);
    if (o.clipSkip > 1) p.fields.emplace_back("Clip skip", std::to_string(o.clipSkip));
    p.fields.emplace_back("RNG", "CPU");
    p.fields.emplace_back("Version", std::string("Spyglass ") + kVersion);
    return p;
}

std::optional<std::string> readPngText(const std::string& png, const std::string& keyword, const std::string& file)
{
    if (png.size() < 8 || png.compare(0, 8, kSignature) != 0) throw Error(file + ": not a PNG file");
    size_t at = 8;
    while (at + 12 <= png.size()) {
        const uint32_t length = bigEndian(png, at);
        if (length > png.size() - at - 12)
            throw Error(file + ": PNG chunk at byte " + std::to_string(at) + " runs past the end of the file");
        const std::string type = png.substr(at + 4, 4);
        const std::string data = png.substr(at + 8, length);
        at += 12 + length;
        if (type == "IEND") break;
        const size_t zero = data.find('\0');
        if (zero == std::string::npos || data.compare(0, zero, keyword) != 0 || zero != keyword.size()) continue;
        if (type == "tEXt") return latin1ToUtf8(data.substr(zero + 1));
        if (type == "zTXt")
            throw Error(file + ": the '" + keyword + "' text is compressed (zTXt); Spyglass reads uncompressed text");
        if (type == "iTXt") {
            if (zero + 3 > data.size()) throw Error(file + ": the '" + keyword + "' iTXt chunk is truncated");
            if (data[zero + 1] != 0)
                throw Error(file + ": the '" + keyword +
                            "' text is compressed (iTXt); Spyglass reads uncompressed text");
            const size_t language = data.find('\0', zero + 3);
            const size_t translated = language == std::string::npos ? language : data.find('\0', language + 1);
            if (translated == std::string::npos) throw Error(file + ": the '" + keyword + "' iTXt chunk is truncated");
            return data.substr(translated + 1);
        }
    }
    return std::nullopt;
}

std::string addPngText(const std::string& png, const std::string& keyword, const std::string& text)
{
    if (png.size() < 8 + 12 || png.compare(0, 8, kSignature) != 0) throw Error("addPngText: not a PNG");
    const size_t iend = png.size() - 12;
    if (png.compare(iend + 4, 4, "IEND") != 0) throw Error("addPngText: the PNG does not end with IEND");
    const bool ascii =
        std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    std::string chunk = ascii ? "tEXt" + keyword + std::string(1, '\0') + text
                              : "iTXt" + keyword + std::string(3, '\0') + std::string(2, '\0') + text;
    std::string out = png.substr(0, iend);
    putBigEndian(out, static_cast<uint32_t>(chunk.size() - 4));
    out += chunk;
    putBigEndian(out, crc32(chunk, 0, chunk.size()));
    return out + png.substr(iend);
}

}  // namespace spyglass::core
