#include "train/bpe_trainer.h"

#include "io/atomic_file.h"
#include "spyglass/error.h"
#include "tokenize/byte_unicode.h"
#include "tokenize/pre_tokenizer.h"

#include <nlohmann/json.hpp>

#include <map>
#include <unordered_map>

namespace spyglass::core {

namespace {

struct Word {
    std::vector<int> symbols;
    int64_t count = 0;
};

uint64_t key(int a, int b)
{
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

void writeJson(const std::filesystem::path& path, const nlohmann::ordered_json& j)
{
    const std::string text = j.dump(1);
    AtomicFile out(path);
    out.write(text.data(), text.size());
    out.commit();
}

}  // namespace

TrainedBpe trainBpe(const std::vector<std::string>& texts, int vocabSize)
{
    if (vocabSize < 257) throw Error("vocab size must be at least 257 (256 bytes + end of text)");
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    steps.push_back(std::make_unique<RegexPreTokenizer>(R"(\p{N})", SplitBehavior::Isolated, false));
    steps.push_back(std::make_unique<RegexPreTokenizer>(gpt2SplitPattern(), SplitBehavior::Isolated, false));
    const SequencePreTokenizer pre(std::move(steps));
    std::unordered_map<std::string, int64_t> pieceCounts;
    for (const auto& text : texts)
        for (auto [b, e] : pre.splitAll(text, {{0, text.size()}})) ++pieceCounts[text.substr(b, e - b)];
    // Sorted for determinism (unordered_map order is not).
    std::map<std::string, int64_t> sorted(pieceCounts.begin(), pieceCounts.end());
    std::vector<Word> words;
    for (const auto& [piece, count] : sorted) {
        Word w;
        for (char c : piece) w.symbols.push_back(static_cast<unsigned char>(c));
        w.count = count;
        words.push_back(std::move(w));
    }
    TrainedBpe out;
    for (int b = 0; b < 256; ++b) out.vocab.push_back(byteToUnicode(static_cast<unsigned char>(b)));
    while (static_cast<int>(out.vocab.size()) + 1 < vocabSize) {
        std::unordered_map<uint64_t, int64_t> pairs;
        for (const auto& w : words)
            for (size_t i = 0; i + 1 < w.symbols.size(); ++i) pairs[key(w.symbols[i], w.symbols[i + 1])] += w.count;
        uint64_t best = 0;
        int64_t bestCount = 0;
        for (const auto& [k, c] : pairs) {
            // Highest count; ties go to the lexicographically smaller pair of strings.
            if (c > bestCount ||
                (c == bestCount && std::make_pair(out.vocab[k >> 32], out.vocab[k & 0xffffffffu]) <
                                       std::make_pair(out.vocab[best >> 32], out.vocab[best & 0xffffffffu]))) {
                best = k;
                bestCount = c;
            }
        }
        if (bestCount < 2) break;
        const int a = static_cast<int>(best >> 32), b = static_cast<int>(best & 0xffffffffu);
        const int merged = static_cast<int>(out.vocab.size());
        out.vocab.push_back(out.vocab[static_cast<size_t>(a)] + out.vocab[static_cast<size_t>(b)]);
        out.merges.emplace_back(out.vocab[static_cast<size_t>(a)], out.vocab[static_cast<size_t>(b)]);
        for (auto& w : words) {
            size_t write = 0;
            for (size_t read = 0; read < w.symbols.size(); ++read) {
                if (read + 1 < w.symbols.size() && w.symbols[read] == a && w.symbols[read + 1] == b) {
                    w.symbols[write++] = merged;
                    ++read;
                } else {
                    w.symbols[write++] = w.symbols[read];
                }
            }
            w.symbols.resize(write);
        }
    }
    return out;
}

void writeTokenizerFiles(const TrainedBpe& bpe, const std::filesystem::path& dir, int contextLength)
{
    using nlohmann::ordered_json;
    ordered_json vocab = ordered_json::object();
    for (size_t i = 0; i < bpe.vocab.size(); ++i) vocab[bpe.vocab[i]] = i;
    ordered_json merges = ordered_json::array();
    for (const auto& [a, b] : bpe.merges) merges.push_back(a + " " + b);
    const int eot = static_cast<int>(bpe.vocab.size());
    ordered_json j;
    j["version"] = "1.0";
    j["truncation"] = nullptr;
    j["padding"] = nullptr;
    j["added_tokens"] = {{{"id", eot},
                          {"content", bpe.endOfText},
                          {"single_word", false},
                          {"lstrip", false},
                          {"rstrip", false},
                          {"normalized", false},
                          {"special", true}}};
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = {
        {"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Digits"}, {"individual_digits", true}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}}}};
    j["post_processor"] = {
        {"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}};
    j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
    j["model"] = {{"type", "BPE"},
                  {"dropout", nullptr},
                  {"unk_token", nullptr},
                  {"continuing_subword_prefix", nullptr},
                  {"end_of_word_suffix", nullptr},
                  {"fuse_unk", false},
                  {"byte_fallback", false},
                  {"vocab", vocab},
                  {"merges", merges}};
    writeJson(dir / "tokenizer.json", j);
    writeJson(dir / "tokenizer_config.json", {{"add_bos_token", false},
                                              {"bos_token", bpe.endOfText},
                                              {"eos_token", bpe.endOfText},
                                              {"model_max_length", contextLength},
                                              {"tokenizer_class", "GPT2TokenizerFast"}});
}

}  // namespace spyglass::core
