// Tokenizer::fromGguf — the tokenizer a GGUF file embeds (tokenizer.ggml.*), built from the same
// pieces as the Hugging Face loaders: SentencePiece BPE by scores for "llama", byte-level BPE from
// merges for "gpt2".
#include "io/gguf_file.h"
#include "spyglass/error.h"
#include "spyglass/tokenizer.h"
#include "tokenize/tokenizer_impl.h"

#include <unordered_map>

namespace spyglass::core {

namespace {

// tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
constexpr int kNormal = 1;
constexpr int kControl = 3;
constexpr int kUserDefined = 4;

// The split patterns of llama.cpp's pre-tokenizer names (tokenizer.ggml.pre), as the models'
// tokenizer.json files write them.
std::string splitPatternFor(const std::string& pre, const std::string& where)
{
    if (pre.empty() || pre == "default" || pre == "gpt-2" || pre == "gpt2") return gpt2SplitPattern();
    if (pre == "llama-bpe" || pre == "llama3")
        return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    if (pre == "qwen2")
        return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    throw Error(where + ": tokenizer.ggml.pre '" + pre +
                "' is not supported (supported: default, gpt-2, llama-bpe, qwen2)");
}

std::vector<int> tokenTypes(const GgufFile& gguf, size_t count)
{
    if (!gguf.find("tokenizer.ggml.token_type")) return std::vector<int>(count, kNormal);
    const std::vector<double>& values = gguf.numbers("tokenizer.ggml.token_type");
    if (values.size() != count)
        throw Error(gguf.path().string() + ": tokenizer.ggml.token_type has " + std::to_string(values.size()) +
                    " entries for " + std::to_string(count) + " tokens");
    return {values.begin(), values.end()};
}

std::optional<int> tokenId(const GgufFile& gguf, const char* key, size_t count)
{
    const auto id = gguf.optionalInteger(key);
    if (!id) return std::nullopt;
    if (*id < 0 || *id >= static_cast<int64_t>(count))
        throw Error(gguf.path().string() + ": " + key + " " + std::to_string(*id) + " is not a token id (0 … " +
                    std::to_string(count - 1) + ")");
    return static_cast<int>(*id);
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::fromGguf(const GgufFile& gguf)
{
    if (!gguf.find("tokenizer.ggml.model")) return nullptr;
    const std::string where = gguf.path().string();
    const std::string model = gguf.string("tokenizer.ggml.model");
    const std::vector<std::string>& tokens = gguf.strings("tokenizer.ggml.tokens");
    if (tokens.empty() || tokens.size() > (1u << 24))
        throw Error(where + ": tokenizer.ggml.tokens holds " + std::to_string(tokens.size()) + " tokens (1 … 2^24)");
    const std::vector<int> types = tokenTypes(gguf, tokens.size());
    auto impl = std::make_unique<TokenizerImpl>();
    impl->source = where;
    if (model == "llama") {
        const std::vector<double>& scores = gguf.numbers("tokenizer.ggml.scores");
        impl->sentencePiece = std::make_unique<SentencePieceBpe>(SentencePieceBpe::fromScores(
            tokens, std::vector<float>(scores.begin(), scores.end()), types, where + " (tokenizer.ggml.tokens)"));
    } else if (model == "gpt2") {
        std::unordered_map<std::string, int> vocab;
        vocab.reserve(tokens.size());
        for (size_t i = 0; i < tokens.size(); ++i) vocab.try_emplace(tokens[i], static_cast<int>(i));
        std::vector<std::pair<std::string, std::string>> merges;
        const std::vector<std::string>& lines = gguf.strings("tokenizer.ggml.merges");
        merges.reserve(lines.size());
        for (size_t i = 0; i < lines.size(); ++i) {
            const size_t space = lines[i].find(' ', 1);
            if (space == std::string::npos || lines[i].find(' ', space + 1) != std::string::npos)
                throw Error(where + ": tokenizer.ggml.merges[" + std::to_string(i) +
                            "] is not two tokens separated by a space");
            merges.emplace_back(lines[i].substr(0, space), lines[i].substr(space + 1));
        }
        impl->model = std::make_unique<BpeModel>(std::move(vocab), merges, where + " (tokenizer.ggml.merges)");
        const std::string pre = gguf.find("tokenizer.ggml.pre") ? gguf.string("tokenizer.ggml.pre") : "default";
        impl->preTokenizer =
            std::make_unique<RegexPreTokenizer>(splitPatternFor(pre, where), SplitBehavior::Isolated, false);
        impl->ignoreMerges = pre == "llama-bpe" || pre == "llama3";
        // Control and user-defined tokens are matched whole in the text, as added tokens are.
        for (size_t i = 0; i < tokens.size(); ++i)
            if (types[i] == kControl || types[i] == kUserDefined)
                impl->addedTokens.push_back({tokens[i], static_cast<int>(i), types[i] == kControl, false, false});
    } else {
        throw Error(where + ": tokenizer.ggml.model '" + model + "' is not supported (supported: llama, gpt2)");
    }
    impl->bos = tokenId(gguf, "tokenizer.ggml.bos_token_id", tokens.size());
    impl->eos = tokenId(gguf, "tokenizer.ggml.eos_token_id", tokens.size());
    // llama.cpp adds BOS for SentencePiece vocabularies unless the file says otherwise.
    const bool addBos = gguf.optionalBoolean("tokenizer.ggml.add_bos_token").value_or(model == "llama");
    if (addBos && impl->bos) impl->prefixIds = {*impl->bos};
    if (gguf.optionalBoolean("tokenizer.ggml.add_eos_token").value_or(false) && impl->eos)
        impl->suffixIds = {*impl->eos};
    return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

}  // namespace spyglass::core
