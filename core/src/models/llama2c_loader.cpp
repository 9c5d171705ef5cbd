#include "models/llama2c_loader.h"

#include "models/llama2c_header.h"
#include "models/rotary_decoder_model.h"
#include "spyglass/error.h"
#include "spyglass/runtime.h"

#include <fstream>
#include <map>

namespace spyglass::core {

std::unique_ptr<LanguageModelImpl> loadLlama2c(const std::filesystem::path& file,
                                               const std::filesystem::path& tokenizerFile, const LoadOptions& options)
{
    const Llama2cHeader h = readLlama2cHeader(file);
    checkDevice(options.device);
    const torch::Device device(options.device);
    std::vector<float> data(h.floatCount());
    {
        std::ifstream in(file, std::ios::binary);
        in.seekg(28);
        in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size() * 4));
        if (!in) throw Error(file.string() + ": read failed");
    }
    const int64_t dim = h.dim, hidden = h.hidden, layers = h.layers, heads = h.heads, kvHeads = h.kvHeads,
                  vocab = h.vocabSize();
    const int64_t headSize = dim / heads, kvDim = headSize * kvHeads;
    size_t offset = 0;
    auto take = [&](std::vector<int64_t> shape) {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        torch::Tensor t = torch::from_blob(data.data() + offset, shape, torch::kFloat32).clone();
        offset += static_cast<size_t>(n);
        return t;
    };
    // Meta's interleaved rotary pairs (2i, 2i+1) → HF rotate_half halves (transformers' conversion permute).
    auto permute = [](const torch::Tensor& w, int64_t nHeads) {
        const int64_t rows = w.size(0), cols = w.size(1);
        return w.view({nHeads, rows / nHeads / 2, 2, cols}).transpose(1, 2).reshape({rows, cols}).contiguous();
    };
    std::map<std::string, torch::Tensor> t;
    t["model.embed_tokens.weight"] = take({vocab, dim});
    const torch::Tensor rmsAtt = take({layers, dim}), wq = take({layers, dim, dim}), wk = take({layers, kvDim, dim}),
                        wv = take({layers, kvDim, dim}), wo = take({layers, dim, dim}), rmsFfn = take({layers, dim}),
                        w1 = take({layers, hidden, dim}), w2 = take({layers, dim, hidden}),
                        w3 = take({layers, hidden, dim});
    for (int64_t l = 0; l < layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        t[p + "input_layernorm.weight"] = rmsAtt[l];
        t[p + "self_attn.q_proj.weight"] = permute(wq[l], heads);
        t[p + "self_attn.k_proj.weight"] = permute(wk[l], kvHeads);
        t[p + "self_attn.v_proj.weight"] = wv[l];
        t[p + "self_attn.o_proj.weight"] = wo[l];
        t[p + "post_attention_layernorm.weight"] = rmsFfn[l];
        t[p + "mlp.gate_proj.weight"] = w1[l];
        t[p + "mlp.down_proj.weight"] = w2[l];
        t[p + "mlp.up_proj.weight"] = w3[l];
    }
    t["model.norm.weight"] = take({dim});
    offset += static_cast<size_t>(h.seqLen * headSize);  // freq_cis tables: unused (RoPE is computed)
    if (h.vocab < 0) t["lm_head.weight"] = take({vocab, dim});

    RotaryConfig c;
    c.family = "llama";
    c.layerCount = h.layers;
    c.width = h.dim;
    c.headCount = h.heads;
    c.kvHeadCount = h.kvHeads;
    c.headWidth = static_cast<int>(headSize);
    c.mlpWidth = h.hidden;
    c.vocabSize = static_cast<int>(vocab);
    c.contextLength = h.seqLen;
    c.normEpsilon = 1e-5;
    c.rotaryDims = static_cast<int>(headSize);
    c.tiedEmbeddings = h.vocab > 0;
    c.bosId = 1;
    c.eosId = 1;  // run.c ends a sequence when it samples BOS
    auto impl = std::make_unique<LanguageModelImpl>();
    impl->info = {file,     "llama2c", h.layers, h.heads,       h.dim, h.hidden, static_cast<int>(vocab),
                  h.seqLen, c.eosId,   c.bosId,  options.device};
    impl->model = std::make_unique<RotaryDecoderModel>(
        c,
        [&](const std::string& name, const std::vector<int64_t>& shape) {
            const auto it = t.find(name);
            if (it == t.end()) throw Error(file.string() + ": missing tensor '" + name + "'");
            if (it->second.sizes().vec() != shape)
                throw Error(file.string() + ": tensor '" + name + "' has the wrong shape");
            return it->second.to(device);
        },
        device, impl->info);
    if (!tokenizerFile.empty()) {
        try {
            impl->tokenizer = Tokenizer::fromLlama2cFile(tokenizerFile, static_cast<int>(vocab));
        } catch (const Error& e) {
            throw e.withContext("tokenizer for " + file.filename().string());
        }
        if (impl->tokenizer->vocabSize() != vocab)
            throw Error(tokenizerFile.string() + ": " + std::to_string(impl->tokenizer->vocabSize()) +
                        " tokens, the checkpoint has " + std::to_string(vocab));
    }
    return impl;
}

}  // namespace spyglass::core
