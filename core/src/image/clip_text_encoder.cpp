#include "image/clip_text_encoder.h"

#include "image/component_loader.h"
#include "image/config_reader.h"
#include "spyglass/error.h"

#include <cmath>

namespace spyglass::core {

std::unique_ptr<ClipTextEncoder> ClipTextEncoder::load(const std::filesystem::path& dir, torch::Device device,
                                                       const StoreAdjust& adjust)
{
    return loadComponent<ClipTextEncoder>(dir, device, adjust);
}

std::unique_ptr<ClipTextEncoder> ClipTextEncoder::build(const ConfigReader& c, const Weights& weights)
{
    auto e = std::unique_ptr<ClipTextEncoder>(new ClipTextEncoder);
    ClipTextConfig& cfg = e->m_config;
    cfg.width = c.integer("hidden_size", 512);
    cfg.heads = c.integer("num_attention_heads", 8);
    cfg.layers = c.integer("num_hidden_layers", 12);
    cfg.intermediate = c.integer("intermediate_size", 2048);
    cfg.positions = c.integer("max_position_embeddings", 77);
    cfg.vocab = c.integer("vocab_size", 49408);
    cfg.eps = c.number("layer_norm_eps", 1e-5);
    const std::string act = c.string("hidden_act", "quick_gelu");
    if (act != "quick_gelu" && act != "gelu") c.fail("hidden_act '" + act + "' is not supported (quick_gelu or gelu)");
    cfg.quickGelu = act == "quick_gelu";
    if (cfg.width % cfg.heads != 0) c.fail("hidden_size is not a multiple of num_attention_heads");
    {
        const Weights w = weights.at("text_model");
        e->m_tokenEmbedding = w("embeddings.token_embedding.weight", {cfg.vocab, cfg.width});
        e->m_positionEmbedding = w("embeddings.position_embedding.weight", {cfg.positions, cfg.width});
        for (int64_t i = 0; i < cfg.layers; ++i) {
            const Weights l = w.at("encoder.layers." + std::to_string(i));
            e->m_layers.push_back({LayerNorm(l.at("layer_norm1"), cfg.width, cfg.eps),
                                   LayerNorm(l.at("layer_norm2"), cfg.width, cfg.eps),
                                   Linear(l.at("self_attn.q_proj"), cfg.width, cfg.width),
                                   Linear(l.at("self_attn.k_proj"), cfg.width, cfg.width),
                                   Linear(l.at("self_attn.v_proj"), cfg.width, cfg.width),
                                   Linear(l.at("self_attn.out_proj"), cfg.width, cfg.width),
                                   Linear(l.at("mlp.fc1"), cfg.width, cfg.intermediate),
                                   Linear(l.at("mlp.fc2"), cfg.intermediate, cfg.width)});
        }
        e->m_finalNorm = LayerNorm(w.at("final_layer_norm"), cfg.width, cfg.eps);
    }
    if (weights.has("text_projection.weight"))
        e->m_projection = weights("text_projection.weight", {c.integer("projection_dim", cfg.width), cfg.width});
    return e;
}

torch::Tensor ClipTextEncoder::forward(const torch::Tensor& ids, std::vector<torch::Tensor>* hidden, int skip) const
{
    if (skip < 0 || skip >= static_cast<int>(m_layers.size()))
        throw Error("clip skip " + std::to_string(skip + 1) + " is out of range: the text encoder has " +
                    std::to_string(m_layers.size()) + " layers");
    const int64_t b = ids.size(0), t = ids.size(1);
    if (t > m_config.positions)
        throw Error("the text encoder takes at most " + std::to_string(m_config.positions) + " tokens");
    torch::Tensor h = m_tokenEmbedding.index_select(0, ids.reshape({-1})).view({b, t, m_config.width}) +
                      m_positionEmbedding.slice(0, 0, t);
    if (hidden) hidden->push_back(h);
    const torch::Tensor mask = torch::full({t, t}, -std::numeric_limits<float>::infinity(), h.options()).triu(1);
    const double scale = 1.0 / std::sqrt(static_cast<double>(m_config.width / m_config.heads));
    for (size_t i = 0; i + static_cast<size_t>(skip) < m_layers.size(); ++i) {
        const Layer& l = m_layers[i];
        const torch::Tensor x = l.norm1(h);
        const torch::Tensor q = headsToBatch(l.q(x) * scale, m_config.heads);
        const torch::Tensor k = headsToBatch(l.k(x), m_config.heads);
        const torch::Tensor v = headsToBatch(l.v(x), m_config.heads);
        const torch::Tensor probs = (torch::bmm(q, k.transpose(1, 2)) + mask).softmax(-1);
        h = h + l.out(batchToHeads(torch::bmm(probs, v), m_config.heads));
        torch::Tensor m = l.fc1(l.norm2(h));
        m = m_config.quickGelu ? m * torch::sigmoid(1.702 * m) : torch::gelu(m);
        h = h + l.fc2(m);
        if (hidden) hidden->push_back(h);
    }
    return m_finalNorm(h);
}

torch::Tensor ClipTextEncoder::pooled(const torch::Tensor& lastHidden, const torch::Tensor& ids) const
{
    if (!m_projection.defined())
        throw Error("this text encoder has no text_projection (not CLIPTextModelWithProjection)");
    const torch::Tensor eos = ids.argmax(-1).to(lastHidden.device());
    const torch::Tensor rows = lastHidden.index({torch::arange(lastHidden.size(0), eos.options()), eos});
    return torch::linear(rows, m_projection);
}

}  // namespace spyglass::core
