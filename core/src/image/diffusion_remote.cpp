#include "spyglass/diffusion_remote.h"

#include "io/json_members.h"

#include "spyglass/error.h"

#include <algorithm>
#include <cstring>
#include <map>

namespace spyglass::core {

namespace {

using nlohmann::json;
using Payloads = std::vector<std::pair<std::string, std::string>>;

// A tensor as a payload: its name and shape in the header, its float32 values in the payload.
void putTensor(const std::string& name, const HostTensor& t, json& shapes, Payloads& payloads)
{
    shapes[name] = t.shape;
    std::string bytes(t.values.size() * sizeof(float), '\0');
    if (!bytes.empty()) std::memcpy(bytes.data(), t.values.data(), bytes.size());
    payloads.emplace_back("diffusion/" + name, std::move(bytes));
}

class TensorReader {
public:
    TensorReader(const Frame& frame, const json& shapes, std::string source)
        : m_shapes(shapes), m_source(std::move(source))
    {
        for (const auto& [name, bytes] : frame.payloads) m_payloads[name] = &bytes;
    }
    HostTensor get(const std::string& name) const
    {
        const auto shape = m_shapes.find(name);
        if (shape == m_shapes.end() || !shape->is_array()) fail(name, "has no shape");
        const auto it = m_payloads.find("diffusion/" + name);
        if (it == m_payloads.end()) fail(name, "is missing");
        if (shape->empty()) {  // an empty tensor (e.g. no pooled embeddings before SDXL)
            if (!it->second->empty()) fail(name, "has bytes but no shape");
            return {};
        }
        HostTensor t;
        uint64_t count = 1;
        for (const json& d : *shape) {
            if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > (int64_t{1} << 31))
                fail(name, "has a bad dimension");
            t.shape.push_back(d.get<int64_t>());
            count *= static_cast<uint64_t>(t.shape.back());
            if (count > (uint64_t{1} << 32)) fail(name, "is too large");
        }
        if (it->second->size() != count * sizeof(float))
            fail(name, "has " + std::to_string(it->second->size()) + " bytes for " + std::to_string(count) + " floats");
        t.values.resize(count);
        if (count) std::memcpy(t.values.data(), it->second->data(), count * sizeof(float));
        return t;
    }

private:
    [[noreturn]] void fail(const std::string& name, const std::string& why) const
    {
        throw Error(m_source + ": the image result's tensor '" + name + "' " + why);
    }
    const json& m_shapes;
    std::string m_source;
    std::map<std::string, const std::string*> m_payloads;
};

}  // namespace

json diffusionOptionsToJson(const DiffusionOptions& o)
{
    if (o.initLatents) throw Error("initial latents cannot be sent to a remote device (use a seed)");
    return {{"prompt", o.prompt},
            {"negative_prompt", o.negativePrompt},
            {"steps", o.steps},
            {"guidance", o.guidance},
            {"scheduler", o.scheduler},
            {"scheduler_config", o.schedulerConfig.string()},
            {"timestep_spacing", o.timestepSpacing},
            {"seed", o.seed},
            {"width", o.width},
            {"height", o.height},
            {"heatmaps", o.heatmaps},
            {"prompt_weights", o.promptWeights},
            {"clip_skip", o.clipSkip},
            {"original_width", o.originalWidth},
            {"original_height", o.originalHeight},
            {"crop_left", o.cropLeft},
            {"crop_top", o.cropTop},
            {"preview_every", o.previewEvery}};
}

DiffusionOptions diffusionOptionsFromJson(const json& j, const std::string& source)
{
    if (!j.is_object()) throw Error(source + ": options must be a JSON object");
    const JsonMembers m(j, source + ": options");
    DiffusionOptions o;
    std::string schedulerConfig;
    m.read("prompt", o.prompt);
    m.read("negative_prompt", o.negativePrompt);
    m.read("steps", o.steps);
    m.read("guidance", o.guidance);
    m.read("scheduler", o.scheduler);
    m.read("scheduler_config", schedulerConfig);
    o.schedulerConfig = schedulerConfig;
    m.read("timestep_spacing", o.timestepSpacing);
    m.read("seed", o.seed);
    m.read("width", o.width);
    m.read("height", o.height);
    m.read("heatmaps", o.heatmaps);
    m.read("prompt_weights", o.promptWeights);
    m.read("clip_skip", o.clipSkip);
    m.read("original_width", o.originalWidth);
    m.read("original_height", o.originalHeight);
    m.read("crop_left", o.cropLeft);
    m.read("crop_top", o.cropTop);
    m.read("preview_every", o.previewEvery);
    return o;
}

json diffusionLoadToJson(const DiffusionLoadOptions& l)
{
    json loras = json::array();
    for (const auto& lora : l.loras) loras.push_back({{"path", lora.path.string()}, {"strength", lora.strength}});
    return {{"config_dir", l.configDir.string()},
            {"vae", l.vaePath.string()},
            {"prediction_type", l.predictionType},
            {"loras", loras}};
}

DiffusionLoadOptions diffusionLoadFromJson(const json& j, const std::string& source)
{
    if (!j.is_object()) throw Error(source + ": load must be a JSON object");
    const JsonMembers m(j, source + ": load");
    DiffusionLoadOptions l;
    std::string configDir, vae;
    m.read("config_dir", configDir);
    m.read("vae", vae);
    m.read("prediction_type", l.predictionType);
    l.configDir = configDir;
    l.vaePath = vae;
    if (const auto loras = j.find("loras"); loras != j.end()) {
        if (!loras->is_array()) throw Error(source + ": load.loras must be a list");
        for (const json& item : *loras) {
            if (!item.is_object()) throw Error(source + ": load.loras has an item that is not an object");
            const JsonMembers lm(item, source + ": load.loras[]");
            std::string path;
            DiffusionLoadOptions::Lora lora;
            lm.read("path", path);
            lm.read("strength", lora.strength);
            lora.path = path;
            l.loras.push_back(std::move(lora));
        }
    }
    return l;
}

void encodeDiffusionResult(const DiffusionResult& r, json& header, Payloads& payloads, size_t budget)
{
    // The per-call maps are the bulk (SDXL at 1024 px: ~0.6 GB); they go only when everything fits.
    size_t callBytes = 0, otherBytes = r.rgb.size();
    for (const auto& call : r.heatmaps.callMaps)
        for (const HostTensor& t : call) callBytes += t.values.size() * sizeof(float);
    for (const HostTensor* t : {&r.image, &r.promptEmbeds, &r.pooledPromptEmbeds, &r.latents, &r.heatmaps.tokenMaps,
                                &r.heatmaps.wordMaps, &r.heatmaps.wordMapsImage})
        otherBytes += t->values.size() * sizeof(float);
    for (const HostTensor& t : r.heatmaps.headSums) otherBytes += t.values.size() * sizeof(float);
    const bool withCalls = otherBytes + callBytes <= budget;
    json shapes = json::object();
    putTensor("image", r.image, shapes, payloads);
    putTensor("prompt_embeds", r.promptEmbeds, shapes, payloads);
    putTensor("pooled_prompt_embeds", r.pooledPromptEmbeds, shapes, payloads);
    putTensor("latents", r.latents, shapes, payloads);
    const Heatmaps& h = r.heatmaps;
    putTensor("token_maps", h.tokenMaps, shapes, payloads);
    putTensor("word_maps", h.wordMaps, shapes, payloads);
    putTensor("word_maps_image", h.wordMapsImage, shapes, payloads);
    for (size_t i = 0; i < h.headSums.size(); ++i)
        putTensor("head_sums/" + std::to_string(i), h.headSums[i], shapes, payloads);
    for (size_t c = 0; withCalls && c < h.callMaps.size(); ++c)
        for (size_t i = 0; i < h.callMaps[c].size(); ++i)
            putTensor("call_maps/" + std::to_string(c) + "/" + std::to_string(i), h.callMaps[c][i], shapes, payloads);
    payloads.emplace_back("diffusion/rgb", std::string(r.rgb.begin(), r.rgb.end()));
    json layers = json::array(), words = json::array();
    for (const HeatmapLayer& l : h.layers)
        layers.push_back(
            {{"name", l.name}, {"block", l.block}, {"heads", l.heads}, {"height", l.height}, {"width", l.width}});
    for (const HeatmapWord& w : h.words) words.push_back({{"word", w.word}, {"rows", w.rows}});
    header["diffusion"] = {{"width", r.width},
                           {"height", r.height},
                           {"token_ids", r.tokenIds},
                           {"token_weights", r.tokenWeights},
                           {"timesteps", r.timesteps},
                           {"scheduler", r.scheduler},
                           {"scheduler_name", r.schedulerName},
                           {"heatmaps",
                            {{"layers", layers},
                             {"row_tokens", h.rowTokens},
                             {"row_ids", h.rowIds},
                             {"grid_height", h.gridHeight},
                             {"grid_width", h.gridWidth},
                             {"words", words},
                             {"head_sums", h.headSums.size()},
                             {"calls", withCalls ? h.callMaps.size() : 0},
                             {"call_layers", !withCalls || h.callMaps.empty() ? 0 : h.callMaps.front().size()}}},
                           {"tensors", shapes}};
    if (!withCalls) header["diffusion"]["call_maps_left_out"] = callBytes;
}

DiffusionResult decodeDiffusionResult(const Frame& frame, const std::string& source)
{
    const auto d = frame.header.find("diffusion");
    if (d == frame.header.end() || !d->is_object()) throw Error(source + ": the answer holds no image result");
    const auto hj = d->find("heatmaps");
    const auto tensors = d->find("tensors");
    if (hj == d->end() || !hj->is_object() || tensors == d->end() || !tensors->is_object())
        throw Error(source + ": the image result has no heatmaps or tensors member");
    const JsonMembers m(*d, source + ": diffusion");
    const JsonMembers hm(*hj, source + ": diffusion.heatmaps");
    const TensorReader t(frame, *tensors, source);
    DiffusionResult r;
    m.read("width", r.width);
    m.read("height", r.height);
    std::vector<int64_t> ids;
    m.readList("token_ids", ids);
    r.tokenIds = ids;
    m.readList("token_weights", r.tokenWeights);
    m.readList("timesteps", r.timesteps);
    m.read("scheduler", r.scheduler);
    m.read("scheduler_name", r.schedulerName);
    if (r.width <= 0 || r.height <= 0 || r.width > 16384 || r.height > 16384)
        throw Error(source + ": the image result has a bad size");
    r.image = t.get("image");
    r.promptEmbeds = t.get("prompt_embeds");
    r.pooledPromptEmbeds = t.get("pooled_prompt_embeds");
    r.latents = t.get("latents");
    const auto rgb = std::find_if(frame.payloads.begin(), frame.payloads.end(),
                                  [](const auto& p) { return p.first == "diffusion/rgb"; });
    if (rgb == frame.payloads.end() || rgb->second.size() != size_t(r.width) * size_t(r.height) * 3)
        throw Error(source + ": the image result's RGB pixels are missing or of the wrong size");
    r.rgb.assign(rgb->second.begin(), rgb->second.end());

    Heatmaps& h = r.heatmaps;
    hm.readList("row_tokens", h.rowTokens);
    hm.readList("row_ids", h.rowIds);
    hm.read("grid_height", h.gridHeight);
    hm.read("grid_width", h.gridWidth);
    if (const auto layers = hj->find("layers"); layers != hj->end() && layers->is_array())
        for (const json& item : *layers) {
            if (!item.is_object())
                throw Error(source + ": diffusion.heatmaps.layers has an item that is not an object");
            const JsonMembers lm(item, source + ": diffusion.heatmaps.layers[]");
            HeatmapLayer l;
            lm.read("name", l.name);
            lm.read("block", l.block);
            lm.read("heads", l.heads);
            lm.read("height", l.height);
            lm.read("width", l.width);
            h.layers.push_back(std::move(l));
        }
    if (const auto words = hj->find("words"); words != hj->end() && words->is_array())
        for (const json& item : *words) {
            if (!item.is_object()) throw Error(source + ": diffusion.heatmaps.words has an item that is not an object");
            const JsonMembers wm(item, source + ": diffusion.heatmaps.words[]");
            HeatmapWord w;
            wm.read("word", w.word);
            wm.readList("rows", w.rows);
            h.words.push_back(std::move(w));
        }
    size_t headSums = 0, calls = 0, callLayers = 0;
    hm.read("head_sums", headSums);
    hm.read("calls", calls);
    hm.read("call_layers", callLayers);
    if (headSums > 4096 || calls > 100000 || callLayers > 4096 || calls * callLayers > frame.payloads.size())
        throw Error(source + ": the image result announces more heat maps than it carries");
    h.tokenMaps = t.get("token_maps");
    h.wordMaps = t.get("word_maps");
    h.wordMapsImage = t.get("word_maps_image");
    for (size_t i = 0; i < headSums; ++i) h.headSums.push_back(t.get("head_sums/" + std::to_string(i)));
    h.callMaps.resize(calls);
    for (size_t c = 0; c < calls; ++c)
        for (size_t i = 0; i < callLayers; ++i)
            h.callMaps[c].push_back(t.get("call_maps/" + std::to_string(c) + "/" + std::to_string(i)));
    return r;
}

}  // namespace spyglass::core
