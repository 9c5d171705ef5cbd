#include "image/clip_tokenizer.h"

#include "io/json_file.h"
#include "spyglass/error.h"
#include "spyglass/tokenizer.h"
#include "tokenize/byte_unicode.h"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <fstream>

namespace spyglass::core {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPattern =
    R"(<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+)";
// transformers' CLIPTokenizer reads merges.txt lines [1, 49152 − 256 − 2 + 1).
constexpr size_t kMaxMerges = 49152 - 256 - 2;
const std::string kEndOfWord = "</w>";

std::string tokenContent(const nlohmann::json& value)
{
    if (value.is_string()) return value.get<std::string>();
    if (value.is_object() && value.contains("content") && value["content"].is_string())
        return value["content"].get<std::string>();
    return {};
}

}  // namespace

std::string ClipTokenizer::clean(const std::string& text)
{
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(sanitizeUtf8(text));
    if (U_SUCCESS(status)) u = nfc->normalize(u, status);
    u.toLower(icu::Locale::getRoot());
    // Collapse white space runs to one space and trim (CLIP's whitespace_clean).
    icu::UnicodeString out;
    bool pendingSpace = false;
    for (int32_t i = 0; i < u.length();) {
        const UChar32 c = u.char32At(i);
        i += U16_LENGTH(c);
        if (u_hasBinaryProperty(c, UCHAR_WHITE_SPACE)) {
            pendingSpace = !out.isEmpty();
            continue;
        }
        if (pendingSpace) out.append(static_cast<UChar>(' '));
        pendingSpace = false;
        out.append(c);
    }
    std::string result;
    out.toUTF8String(result);
    return result;
}

std::unique_ptr<ClipTokenizer> ClipTokenizer::load(const fs::path& dir, const std::string& padToken)
{
    const fs::path vocabPath = dir / "vocab.json";
    const fs::path mergesPath = dir / "merges.txt";
    std::error_code ec;
    if (!fs::is_regular_file(vocabPath, ec))
        throw Error(vocabPath.string() + ": missing (the CLIP tokenizer needs vocab.json and merges.txt)");
    if (!fs::is_regular_file(mergesPath, ec))
        throw Error(mergesPath.string() + ": missing (the CLIP tokenizer needs vocab.json and merges.txt)");
    const nlohmann::json vocabJson = readJsonFile(vocabPath);
    if (!vocabJson.is_object() || vocabJson.empty())
        throw Error(vocabPath.string() + ": not a JSON object of token → id");
    std::unordered_map<std::string, int> vocab;
    for (auto it = vocabJson.begin(); it != vocabJson.end(); ++it) {
        if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() >= (1 << 24))
            throw Error(vocabPath.string() + ": the id of '" + sanitizeUtf8(it.key()) +
                        "' is not a small non-negative integer");
        vocab.emplace(it.key(), it->get<int>());
    }
    std::ifstream in(mergesPath, std::ios::binary);
    if (!in) throw Error(mergesPath.string() + ": cannot be read");
    std::vector<std::pair<std::string, std::string>> merges;
    std::string line;
    bool first = true;
    size_t lineNumber = 0;
    while (std::getline(in, line) && merges.size() < kMaxMerges) {
        ++lineNumber;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (first && line.rfind("#version", 0) == 0) {
            first = false;
            continue;
        }
        first = false;
        if (line.empty()) continue;
        const size_t space = line.find(' ');
        if (space == std::string::npos || space == 0 || space + 1 >= line.size() ||
            line.find(' ', space + 1) != std::string::npos)
            throw Error(mergesPath.string() + ": line " + std::to_string(lineNumber) +
                        " is not two tokens separated by one space");
        merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    }
    auto t = std::unique_ptr<ClipTokenizer>(new ClipTokenizer);
    auto special = [&](const std::string& name) {
        const auto it = vocab.find(name);
        if (it == vocab.end())
            throw Error(vocabPath.string() + ": has no '" + name + "' token (not a CLIP vocabulary)");
        return it->second;
    };
    t->m_startId = special("<|startoftext|>");
    t->m_endId = special("<|endoftext|>");
    t->m_padId = t->m_endId;
    t->m_byteIds.assign(256, -1);
    t->m_byteEndIds.assign(256, -1);
    for (int b = 0; b < 256; ++b) {
        const std::string& symbol = byteToUnicode(static_cast<unsigned char>(b));
        const auto a = vocab.find(symbol);
        const auto e = vocab.find(symbol + kEndOfWord);
        if (a == vocab.end() || e == vocab.end())
            throw Error(vocabPath.string() + ": byte " + std::to_string(b) +
                        " has no symbol (a CLIP vocabulary holds all 256 bytes with and without </w>)");
        t->m_byteIds[static_cast<size_t>(b)] = a->second;
        t->m_byteEndIds[static_cast<size_t>(b)] = e->second;
    }
    const fs::path configPath = dir / "tokenizer_config.json";
    if (fs::is_regular_file(configPath, ec)) {
        const nlohmann::json config = readJsonFile(configPath);
        if (config.is_object() && config.contains("pad_token")) {
            const std::string pad = tokenContent(config["pad_token"]);
            if (!pad.empty()) {
                const auto it = vocab.find(pad);
                if (it == vocab.end()) {
                    // "!" is stored as a byte symbol; other names must be in the vocabulary.
                    throw Error(configPath.string() + ": pad_token '" + sanitizeUtf8(pad) + "' is not in vocab.json");
                }
                t->m_padId = it->second;
            }
        }
    }
    if (!padToken.empty()) {
        const auto it = vocab.find(padToken);
        if (it == vocab.end()) throw Error(vocabPath.string() + ": has no '" + padToken + "' token to pad with");
        t->m_padId = it->second;
    }
    t->m_bpe = std::make_unique<BpeModel>(std::move(vocab), merges, mergesPath.string());
    t->m_splitter = std::make_unique<RegexSplitter>(kPattern);
    return t;
}

ClipEncoding ClipTokenizer::encode(const std::string& text) const
{
    ClipEncoding e;
    e.text = clean(text);
    for (const auto& [begin, end] : m_splitter->match(e.text)) {
        const std::string_view piece(e.text.data() + begin, end - begin);
        if (piece == "<|startoftext|>" || piece == "<|endoftext|>") {
            e.ids.push_back(piece == "<|startoftext|>" ? m_startId : m_endId);
            e.offsets.emplace_back(begin, end);
            continue;
        }
        std::vector<int> symbols;
        symbols.reserve(piece.size());
        for (size_t i = 0; i < piece.size(); ++i) {
            const auto byte = static_cast<unsigned char>(piece[i]);
            symbols.push_back(i + 1 == piece.size() ? m_byteEndIds[byte] : m_byteIds[byte]);
        }
        m_bpe->mergeSymbols(symbols);
        size_t position = begin;
        for (int id : symbols) {
            std::string token = m_bpe->token(id);
            if (token.size() >= kEndOfWord.size() &&
                token.compare(token.size() - kEndOfWord.size(), kEndOfWord.size(), kEndOfWord) == 0)
                token.resize(token.size() - kEndOfWord.size());
            const size_t length = unicodeToBytes(token).value_or(token).size();
            e.ids.push_back(id);
            e.offsets.emplace_back(position, std::min(end, position + length));
            position += length;
        }
    }
    return e;
}

std::string ClipTokenizer::tokenText(int id) const
{
    if (id == m_startId) return "<|startoftext|>";
    if (id == m_endId) return "<|endoftext|>";
    std::string token = m_bpe->token(id);
    if (token.size() >= kEndOfWord.size() &&
        token.compare(token.size() - kEndOfWord.size(), kEndOfWord.size(), kEndOfWord) == 0)
        token.resize(token.size() - kEndOfWord.size());
    return sanitizeUtf8(unicodeToBytes(token).value_or(token));
}

}  // namespace spyglass::core
