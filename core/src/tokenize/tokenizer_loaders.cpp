// Building a TokenizerImpl from tokenizer.json or from vocab.json + merges.txt.
#include "io/json_file.h"
#include "spyglass/error.h"
#include "spyglass/tokenizer.h"
#include "tokenize/tokenizer_impl.h"

namespace spyglass::core {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A token id from JSON: an integer in [0, 2^24) — a hostile file must not make us size tables by it.
int tokenId(const json& value, const std::string& where, const std::string& what)
{
    constexpr int64_t kMaxId = int64_t{1} << 24;
    if (!value.is_number_integer()) throw Error(where + ": " + what + " is not an integer id");
    const int64_t id = value.is_number_unsigned()
                           ? static_cast<int64_t>(std::min<uint64_t>(value.get<uint64_t>(), kMaxId))
                           : value.get<int64_t>();
    if (id < 0 || id >= kMaxId) throw Error(where + ": " + what + " has id " + value.dump() + ", outside 0 … 16777215");
    return static_cast<int>(id);
}

const char* const kSupportedPreTokenizers = "ByteLevel, Split, Digits, Sequence";

std::string typeOf(const json& j)
{
    return j.is_object() && j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : "";
}

SplitBehavior parseBehavior(const std::string& name, const std::string& where)
{
    if (name == "Removed") return SplitBehavior::Removed;
    if (name == "Isolated") return SplitBehavior::Isolated;
    if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
    if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
    if (name == "Contiguous") return SplitBehavior::Contiguous;
    throw Error(where + ": unknown Split behavior '" + name + "'");
}

std::unique_ptr<PreTokenizer> parsePreTokenizer(const json& j, TokenizerImpl& impl, const std::string& where)
{
    const std::string type = typeOf(j);
    if (type == "ByteLevel") {
        impl.addPrefixSpace = j.value("add_prefix_space", false);
        if (!j.value("use_regex", true)) return nullptr;
        return std::make_unique<RegexPreTokenizer>(gpt2SplitPattern(), SplitBehavior::Isolated, false);
    }
    if (type == "Split") {
        const json& pattern = j.at("pattern");
        std::string regex;
        if (pattern.contains("Regex"))
            regex = pattern["Regex"].get<std::string>();
        else if (pattern.contains("String"))
            regex = RegexSplitter::quote(pattern["String"].get<std::string>());
        else
            throw Error(where + ": Split pattern must hold \"Regex\" or \"String\"");
        return std::make_unique<RegexPreTokenizer>(regex, parseBehavior(j.value("behavior", "Isolated"), where),
                                                   j.value("invert", false));
    }
    if (type == "Digits") {
        return std::make_unique<RegexPreTokenizer>(j.value("individual_digits", false) ? R"(\p{N})" : R"(\p{N}+)",
                                                   SplitBehavior::Isolated, false);
    }
    if (type == "Sequence") {
        std::vector<std::unique_ptr<PreTokenizer>> steps;
        for (const auto& step : j.at("pretokenizers"))
            if (auto p = parsePreTokenizer(step, impl, where)) steps.push_back(std::move(p));
        return std::make_unique<SequencePreTokenizer>(std::move(steps));
    }
    throw Error(where + ": pre-tokenizer '" + type + "' is not supported (supported: " + kSupportedPreTokenizers + ")");
}

std::optional<int> idOf(const TokenizerImpl& impl, const std::string& token)
{
    return impl.find(token);
}

// tokenizer_config.json's bos_token / eos_token: a string or {"content": …}.
std::optional<std::string> configToken(const json& config, const char* key)
{
    if (!config.contains(key)) return std::nullopt;
    const json& v = config[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
    return std::nullopt;
}

void applyTokenizerConfig(TokenizerImpl& impl, const fs::path& dir)
{
    const fs::path file = dir / "tokenizer_config.json";
    std::error_code ec;
    if (!fs::exists(file, ec)) return;
    const json config = readJsonFile(file);
    if (!config.is_object()) throw Error(file.string() + ": not a JSON object");
    if (auto bos = configToken(config, "bos_token")) impl.bos = idOf(impl, *bos);
    if (auto eos = configToken(config, "eos_token")) impl.eos = idOf(impl, *eos);
    if (config.contains("add_bos_token") && config["add_bos_token"].is_boolean()) {
        const bool add = config["add_bos_token"].get<bool>();
        if (add && impl.prefixIds.empty()) {
            if (!impl.bos)
                throw Error(file.string() + ": add_bos_token is true but bos_token is not in the vocabulary");
            impl.prefixIds = {*impl.bos};
        } else if (!add && impl.bos && impl.prefixIds == std::vector<int>{*impl.bos}) {
            impl.prefixIds.clear();
        }
    }
}

// TemplateProcessing "single": special tokens before and after the sequence "A".
void parsePostProcessor(const json& j, TokenizerImpl& impl, const std::string& where)
{
    const std::string type = typeOf(j);
    if (type.empty() || type == "ByteLevel") return;
    if (type == "Sequence") {
        for (const auto& p : j.at("processors")) parsePostProcessor(p, impl, where);
        return;
    }
    if (type != "TemplateProcessing")
        throw Error(where + ": post-processor '" + type +
                    "' is not supported (supported: ByteLevel, TemplateProcessing)");
    const json& specials = j.value("special_tokens", json::object());
    bool afterSequence = false;
    for (const auto& piece : j.at("single")) {
        if (piece.contains("Sequence")) {
            afterSequence = true;
            continue;
        }
        const std::string name = piece.at("SpecialToken").at("id").get<std::string>();
        if (!specials.contains(name)) throw Error(where + ": template token '" + name + "' is not in special_tokens");
        for (const auto& id : specials[name].at("ids"))
            (afterSequence ? impl.suffixIds : impl.prefixIds)
                .push_back(tokenId(id, where, "special token '" + name + "'"));
    }
}

std::vector<std::pair<std::string, std::string>> parseMerges(const json& merges, const std::string& where)
{
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(merges.size());
    for (const auto& m : merges) {
        if (m.is_string()) {
            const std::string s = m.get<std::string>();
            const size_t space = s.find(' ', 1);
            if (space == std::string::npos)
                throw Error(where + ": merge '" + s + "' is not two tokens separated by a space");
            out.emplace_back(s.substr(0, space), s.substr(space + 1));
        } else if (m.is_array() && m.size() == 2) {
            out.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
        } else {
            throw Error(where + ": a merge is neither \"a b\" nor [\"a\", \"b\"]");
        }
    }
    return out;
}

std::unordered_map<std::string, int> parseVocab(const json& vocab, const std::string& where)
{
    if (!vocab.is_object()) throw Error(where + ": vocab is not a JSON object of token → id");
    std::unordered_map<std::string, int> out;
    out.reserve(vocab.size());
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
        out.emplace(it.key(), tokenId(*it, where, "vocab entry '" + sanitizeUtf8(it.key()) + "'"));
    }
    return out;
}

}  // namespace

namespace {

// Llama-2 style SentencePiece BPE in tokenizer.json: byte_fallback with either the
// Prepend("▁") + Replace(" " → "▁") normalizer or a Metaspace pre-tokenizer.
bool isSentencePieceShape(const json& root)
{
    const json& model = root.at("model");
    if (!model.value("byte_fallback", false)) return false;
    const json normalizer = root.value("normalizer", json());
    const json pre = root.value("pre_tokenizer", json());
    if (typeOf(normalizer) == "Sequence") {
        bool prepend = false, replace = false;
        for (const auto& n : normalizer.at("normalizers")) {
            prepend = prepend || (typeOf(n) == "Prepend" && n.value("prepend", "") == "\xE2\x96\x81");
            replace = replace || (typeOf(n) == "Replace" && n.at("pattern").value("String", "") == " " &&
                                  n.value("content", "") == "\xE2\x96\x81");
        }
        return prepend && replace && pre.is_null();
    }
    return normalizer.is_null() && typeOf(pre) == "Metaspace" && pre.value("replacement", "") == "\xE2\x96\x81";
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::fromLlama2cFile(const fs::path& file, int vocabSize)
{
    auto impl = std::make_unique<TokenizerImpl>();
    impl->source = file.string();
    impl->sentencePiece =
        std::make_unique<SentencePieceBpe>(SentencePieceBpe::fromLlama2cFile(file.string(), vocabSize));
    impl->bos = 1;
    impl->eos = 2;
    impl->prefixIds = {1};  // llama2.c encodes with BOS
    return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

std::unique_ptr<Tokenizer> Tokenizer::fromTokenizerJson(const fs::path& file)
{
    const std::string where = file.string();
    const json root = readJsonFile(file);
    auto impl = std::make_unique<TokenizerImpl>();
    impl->source = where;
    try {
        if (!root.is_object()) throw Error("not a JSON object");
        const bool sentencePiece = root.contains("model") && isSentencePieceShape(root);
        if (!sentencePiece && root.contains("normalizer") && !root["normalizer"].is_null())
            throw Error("normalizer '" + typeOf(root["normalizer"]) +
                        "' is not supported yet (byte-level BPE tokenizers without a normalizer are)");
        const json& model = root.at("model");
        const std::string modelType = model.value("type", "BPE");
        if (modelType != "BPE") throw Error("model type '" + modelType + "' is not supported (supported: BPE)");
        if (model.value("byte_fallback", false) && !sentencePiece)
            throw Error(
                "BPE with byte_fallback is supported with the Llama normalizer (Prepend + Replace \"▁\") or a "
                "Metaspace pre-tokenizer");
        for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
            if (model.contains(key) && model[key].is_string() && !model[key].get<std::string>().empty())
                throw Error(std::string("BPE ") + key + " is not supported");
        impl->ignoreMerges = model.value("ignore_merges", false);
        if (sentencePiece) {
            const auto vocab = parseVocab(model.at("vocab"), where);
            std::vector<std::string> pieces(vocab.size());
            for (const auto& [piece, id] : vocab) {
                if (id >= static_cast<int>(pieces.size()))
                    throw Error("vocab ids are not 0 … " + std::to_string(pieces.size() - 1));
                pieces[static_cast<size_t>(id)] = piece;
            }
            impl->sentencePiece = std::make_unique<SentencePieceBpe>(
                SentencePieceBpe::fromMerges(std::move(pieces), parseMerges(model.at("merges"), where), where));
        } else {
            impl->model = std::make_unique<BpeModel>(parseVocab(model.at("vocab"), where),
                                                     parseMerges(model.at("merges"), where), where);
        }
        for (const auto& t : root.value("added_tokens", json::array())) {
            AddedToken added;
            added.id = tokenId(t.at("id"), where, "added token");
            added.content = t.at("content").get<std::string>();
            added.special = t.value("special", false);
            added.lstrip = t.value("lstrip", false);
            added.rstrip = t.value("rstrip", false);
            impl->addedTokens.push_back(std::move(added));
        }
        if (!sentencePiece && root.contains("pre_tokenizer") && !root["pre_tokenizer"].is_null())
            impl->preTokenizer = parsePreTokenizer(root["pre_tokenizer"], *impl, where);
        if (!sentencePiece && root.contains("decoder") && !root["decoder"].is_null()) {
            const std::string decoder = typeOf(root["decoder"]);
            if (decoder != "ByteLevel")
                throw Error("decoder '" + decoder + "' is not supported (supported: ByteLevel)");
        }
        if (root.contains("post_processor") && !root["post_processor"].is_null())
            parsePostProcessor(root["post_processor"], *impl, where);
        if (!impl->prefixIds.empty()) impl->bos = impl->prefixIds.front();
    } catch (const nlohmann::json::exception& e) {
        throw Error(where + ": unexpected structure: " + e.what());
    } catch (const Error& e) {
        const std::string msg = e.what();
        if (msg.rfind(where, 0) == 0) throw;
        throw e.withContext(where);
    }
    applyTokenizerConfig(*impl, file.parent_path());
    return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

std::unique_ptr<Tokenizer> Tokenizer::fromVocabMerges(const fs::path& vocabJson, const fs::path& mergesTxt)
{
    auto impl = std::make_unique<TokenizerImpl>();
    impl->source = vocabJson.string();
    const json vocab = readJsonFile(vocabJson);
    const std::string text = readTextFile(mergesTxt);
    std::vector<std::pair<std::string, std::string>> merges;
    size_t pos = 0;
    int lineNumber = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        ++lineNumber;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line.rfind("#version", 0) == 0) continue;
        const size_t space = line.find(' ', 1);
        if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
            throw Error(mergesTxt.string() + ": line " + std::to_string(lineNumber) +
                        " is not two tokens separated by a space");
        merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    }
    impl->model = std::make_unique<BpeModel>(parseVocab(vocab, vocabJson.string()), merges, mergesTxt.string());
    impl->preTokenizer = std::make_unique<RegexPreTokenizer>(gpt2SplitPattern(), SplitBehavior::Isolated, false);
    if (auto eot = impl->model->find("<|endoftext|>")) impl->bos = impl->eos = *eot;
    applyTokenizerConfig(*impl, vocabJson.parent_path());
    return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

std::unique_ptr<Tokenizer> Tokenizer::loadFromFolder(const fs::path& dir)
{
    std::error_code ec;
    if (fs::exists(dir / "tokenizer.json", ec)) return fromTokenizerJson(dir / "tokenizer.json");
    const bool hasVocab = fs::exists(dir / "vocab.json", ec);
    const bool hasMerges = fs::exists(dir / "merges.txt", ec);
    if (hasVocab && hasMerges) return fromVocabMerges(dir / "vocab.json", dir / "merges.txt");
    if (hasVocab != hasMerges)
        throw Error(dir.string() + ": has " +
                    (hasVocab ? "vocab.json but no merges.txt" : "merges.txt but no vocab.json") +
                    "; a GPT-2 tokenizer needs both (or a tokenizer.json)");
    return nullptr;
}

}  // namespace spyglass::core
