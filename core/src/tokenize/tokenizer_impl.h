#pragma once
// TokenizerImpl — the pipeline behind spyglass::core::Tokenizer: added-token split →
// pre-tokenizer → byte-level BPE → template (BOS/EOS) ids. Built by the loaders in
// tokenizer_loaders.cpp. Thread safety: immutable after loading.
#include "tokenize/bpe_model.h"
#include "tokenize/pre_tokenizer.h"
#include "tokenize/sentencepiece_bpe.h"

#include "spyglass/tokenizer.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spyglass::core {

struct AddedToken {
    std::string content;
    int id = 0;
    bool special = false;
    bool lstrip = false;
    bool rstrip = false;
};

class TokenizerImpl {
public:
    std::string source;
    std::unique_ptr<BpeModel> model;                  // byte-level BPE (GPT-2 style) …
    std::unique_ptr<SentencePieceBpe> sentencePiece;  // … or SentencePiece BPE (Llama style)
    std::unique_ptr<PreTokenizer> preTokenizer;       // null: the whole segment is one piece
    bool addPrefixSpace = false;
    bool ignoreMerges = false;  // a piece that is itself in the vocabulary is not split (Llama 3)
    std::vector<AddedToken> addedTokens;
    std::vector<int> prefixIds;  // inserted before the text (BOS)
    std::vector<int> suffixIds;
    std::optional<int> bos;
    std::optional<int> eos;

    [[nodiscard]] Encoding encode(std::string_view text) const;
    [[nodiscard]] std::string tokenBytes(int id) const;
    [[nodiscard]] int vocabSize() const;
    [[nodiscard]] const AddedToken* addedToken(int id) const;
    [[nodiscard]] std::optional<int> find(std::string_view token) const;
    // Concatenated bytes; SentencePiece drops control tokens and the dummy-prefix space when the
    // text starts the sequence (no `previous`, or `previous` is BOS).
    [[nodiscard]] std::string decode(const std::vector<int>& ids, std::optional<int> previous) const;

private:
    void encodeSegment(std::string_view text, size_t begin, size_t end, Encoding& out) const;
};

}  // namespace spyglass::core
