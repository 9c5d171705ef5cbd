// The tokenizer a GGUF embeds (#15), reached with valid GGUF framing so that the fuzzer spends
// its time on the vocabulary rather than on the header: the input's lines become
// tokenizer.ggml.tokens (and, for "gpt2", merges; for "llama", scores and token types), its first
// bytes choose the model, the pre-tokenizer and the special ids, and its last line is encoded and
// decoded again. Everything but spyglass::core::Error is a finding.
#include "fuzz_support.h"

#include "../core/gguf_builder.h"
#include "io/gguf_file.h"
#include "spyglass/tokenizer.h"

#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 4) return 0;
    const std::string text(reinterpret_cast<const char*>(data) + 4, size - 4);
    std::vector<std::string> lines;
    for (size_t start = 0; start <= text.size();) {
        const size_t end = std::min(text.find('\n', start), text.size());
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    const std::string input = lines.back();
    lines.pop_back();
    if (lines.empty()) return 0;
    static const char* const kPre[] = {"default", "gpt-2", "llama-bpe", "qwen2", "llama3", "unknown-pre"};
    const bool llama = (data[0] & 1) != 0;
    spyglass::test::GgufBuilder g;
    g.str("general.architecture", "llama").str("tokenizer.ggml.model", llama ? "llama" : "gpt2");
    g.str("tokenizer.ggml.pre", kPre[data[1] % 6]);
    g.strings("tokenizer.ggml.tokens", lines);
    std::vector<int32_t> types;
    for (size_t i = 0; i < lines.size(); ++i) types.push_back(static_cast<int32_t>((data[2] + i * 7) % 7));
    g.i32s("tokenizer.ggml.token_type", types);
    if (llama) {
        std::vector<float> scores;
        for (size_t i = 0; i < lines.size(); ++i) scores.push_back(-static_cast<float>((i * 31 + data[3]) % 97));
        g.f32s("tokenizer.ggml.scores", scores);
    } else {
        std::vector<std::string> merges;  // each line split at its middle, some kept whole (malformed)
        for (size_t i = 0; i + 1 < lines.size(); ++i)
            merges.push_back(i % 5 == 4 ? lines[i] : lines[i] + " " + lines[i + 1]);
        g.strings("tokenizer.ggml.merges", merges);
    }
    if (data[3] & 1) g.u32("tokenizer.ggml.bos_token_id", data[3] >> 1);
    if (data[3] & 2) g.u32("tokenizer.ggml.eos_token_id", data[2]);
    g.boolean("tokenizer.ggml.add_bos_token", (data[2] & 1) != 0);
    const auto path = spyglass::fuzz::scratch("tokenizer.gguf");
    g.write(path);
    spyglass::fuzz::expectOnlyErrors([&] {
        const auto gguf = spyglass::core::GgufFile::open(path);
        if (auto tokenizer = spyglass::core::Tokenizer::fromGguf(*gguf)) {
            const auto encoded = tokenizer->encode(input);
            (void)tokenizer->decode(encoded.ids);
        }
    });
    return 0;
}
