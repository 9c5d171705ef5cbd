#pragma once
// Tokenizer — byte-level BPE exactly as the reference implementations (GPT-2 encoder.py,
// Hugging Face tokenizers) tokenize, with byte offsets of every token into the input.
//
//   auto tok = Tokenizer::loadFromFolder("models/gpt2");     // nullptr when the folder has none
//   Encoding e = tok->encode("Hello world");                  // ids {15496, 995}, offsets {0,5},{5,11}
//   std::string text = tok->decode(e.ids);
//
// Sources: `tokenizer.json` (byte-level BPE with pre-tokenizers ByteLevel, Split, Digits, Sequence;
// or SentencePiece-style BPE with byte fallback and the Prepend/Replace "▁" normalizer of Llama 2;
// ByteLevel decoder; added and special tokens, which are matched in the text as whole tokens)
// llama2.c's `tokenizer.bin`; or `vocab.json` + `merges.txt` (GPT-2 files: plain text only, `<|endoftext|>` in the text
// is tokenized as ordinary characters, as OpenAI's encoder does). Invalid UTF-8 input never fails: the bytes are
// tokenized as they are (byte-level BPE covers every byte) and ill-formed sequences count as U+FFFD for the
// pre-tokenizer's character classes. Thread safety: encode/decode are const and safe to call from several threads at
// once.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spyglass::core {

struct Encoding {
    std::vector<int> ids;
    // Byte range [begin, end) of each token in the UTF-8 input; BOS and other inserted tokens
    // get an empty range at their insertion point.
    std::vector<std::pair<size_t, size_t>> offsets;
};

class TokenizerImpl;
class GgufFile;

class Tokenizer {
public:
    // Looks for tokenizer.json, else vocab.json + merges.txt (plus tokenizer_config.json for BOS).
    // Returns nullptr when the folder has no tokenizer files; throws Error on broken ones.
    static std::unique_ptr<Tokenizer> loadFromFolder(const std::filesystem::path& dir);
    static std::unique_ptr<Tokenizer> fromTokenizerJson(const std::filesystem::path& file);
    static std::unique_ptr<Tokenizer> fromVocabMerges(const std::filesystem::path& vocabJson,
                                                      const std::filesystem::path& mergesTxt);
    ~Tokenizer();

    [[nodiscard]] Encoding encode(std::string_view text) const;
    // Concatenated bytes of the tokens (may be invalid UTF-8 if the ids split a character).
    // SentencePiece tokenizers drop BOS/EOS and the dummy-prefix space, as HF's decode does.
    [[nodiscard]] std::string decode(const std::vector<int>& ids) const;
    // The text of `ids` continuing after token `previous` (a continuation keeps its leading space
    // unless `previous` is BOS, as llama2.c's run.c prints it).
    [[nodiscard]] std::string decodeAfter(int previous, const std::vector<int>& ids) const;
    // llama2.c's tokenizer.bin (vocabulary size from the model; -1: until the end of the file).
    static std::unique_ptr<Tokenizer> fromLlama2cFile(const std::filesystem::path& file, int vocabSize = -1);
    // The tokenizer embedded in a GGUF file (tokenizer.ggml.*): "llama" (SentencePiece BPE by
    // scores, byte fallback) or "gpt2" (byte-level BPE from merges; pre-tokenizer named by
    // tokenizer.ggml.pre: default, gpt-2, llama-bpe, qwen2), BOS/EOS/add_bos from the metadata.
    // Null when the file has no tokenizer.ggml.model. Throws Error naming the file and key.
    static std::unique_ptr<Tokenizer> fromGguf(const GgufFile& gguf);
    // The raw bytes one token stands for.
    [[nodiscard]] std::string tokenBytes(int id) const;
    // The token as valid UTF-8 for display: bytes that split a character become U+FFFD.
    [[nodiscard]] std::string tokenText(int id) const;
    [[nodiscard]] int vocabSize() const;
    [[nodiscard]] bool addsBos() const;
    [[nodiscard]] std::optional<int> bosId() const;
    [[nodiscard]] std::optional<int> eosId() const;
    [[nodiscard]] std::optional<int> tokenToId(std::string_view token) const;
    // Where it was loaded from (for messages).
    [[nodiscard]] const std::string& source() const;

private:
    explicit Tokenizer(std::unique_ptr<TokenizerImpl> impl);
    std::unique_ptr<TokenizerImpl> m_impl;
};

// Replaces ill-formed UTF-8 sequences with U+FFFD.
[[nodiscard]] std::string sanitizeUtf8(std::string_view bytes);
[[nodiscard]] bool isValidUtf8(std::string_view bytes);

}  // namespace spyglass::core
