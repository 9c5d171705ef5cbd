#include "image/lora.h"

#include "image/ldm_unet_names.h"

#include "models/torch_weights.h"
#include "spyglass/error.h"

#include <torch/torch.h>

#include <cmath>

namespace spyglass::core {

namespace {

bool hasSuffix(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The kohya prefixes of a component's modules.
std::vector<std::string> kohyaPrefixes(const std::string& component)
{
    if (component == "unet") return {"lora_unet_"};
    if (component == "text_encoder_2") return {"lora_te2_"};
    return {"lora_te_", "lora_te1_"};
}

torch::Tensor toDouble(const TensorView& v, const std::string& origin)
{
    WeightStore::Entry e;
    e.view = &v;
    std::vector<float> values(static_cast<size_t>(v.numel()));
    if (!fillFloat32(e, v.name, origin, values.data()))
        throw Error(origin + ": tensor '" + v.name + "' holds NaN or Inf values");
    return torch::tensor(values, torch::kFloat32).to(torch::kFloat64).view(v.shape);
}

}  // namespace

std::shared_ptr<const Lora> Lora::open(const std::filesystem::path& path, double strength)
{
    if (!std::isfinite(strength)) throw Error(path.string() + ": the LoRA strength must be a number");
    auto lora = std::make_shared<Lora>();
    lora->m_path = path;
    lora->m_strength = strength;
    lora->m_file = SafetensorsFile::open(path);
    const std::string file = path.string();
    for (const auto& view : lora->m_file->tensors()) {
        const std::string& key = view.name;
        std::string module;
        int part = 0;
        for (const auto& [suffix, p] : std::vector<std::pair<std::string, int>>{
                 {".lora_down.weight", 1}, {".lora_up.weight", 2}, {".alpha", 3}}) {
            if (hasSuffix(key, suffix)) {
                module = key.substr(0, key.size() - suffix.size());
                part = p;
                break;
            }
        }
        if (part == 0) {
            if (key.find("hada_") != std::string::npos || key.find("lokr_") != std::string::npos)
                throw Error(file + ": key '" + key +
                            "' is a LyCORIS (LoHa/LoKr) tensor; only LoRA (lora_up/lora_down) is supported");
            throw Error(file + ": key '" + key +
                        "' is not a kohya LoRA tensor (<module>.lora_down.weight, .lora_up.weight, .alpha)");
        }
        if (module.rfind("lora_unet_", 0) != 0 && module.rfind("lora_te_", 0) != 0 &&
            module.rfind("lora_te1_", 0) != 0 && module.rfind("lora_te2_", 0) != 0)
            throw Error(file + ": key '" + key +
                        "' adapts no part Spyglass loads (lora_unet_*, lora_te_*, lora_te1_*, "
                        "lora_te2_*)");
        Module& m = lora->m_modules[module];
        if (part == 1) m.down = &view;
        if (part == 2) m.up = &view;
        if (part == 3) {
            if (view.numel() != 1) throw Error(file + ": key '" + key + "' must hold one number");
            m.alpha = static_cast<double>(lora->m_file->readFloat(key).values[0]);
            if (!std::isfinite(m.alpha) || m.alpha <= 0)
                throw Error(file + ": key '" + key + "' must be a positive number");
        }
    }
    if (lora->m_modules.empty()) throw Error(file + ": holds no LoRA modules");
    for (const auto& [module, m] : lora->m_modules) {
        if (!m.up || !m.down)
            throw Error(file + ": module '" + module + "' lacks its " + (m.up ? "lora_down" : "lora_up") + ".weight");
        const auto& d = m.down->shape;
        const auto& u = m.up->shape;
        const bool ok = (d.size() == 2 || d.size() == 4) && u.size() == d.size() && u[1] == d[0] && d[0] > 0 &&
                        (u.size() == 2 || (u[2] == 1 && u[3] == 1));
        if (!ok)
            throw Error(file + ": module '" + module + "': lora_up " + shapeText(u) + " and lora_down " + shapeText(d) +
                        " do not make a rank-r update");
    }
    return lora;
}

void Lora::applyTo(WeightStore& store, const std::string& component, std::set<std::string>& used) const
{
    const std::string file = m_path.string();
    const std::vector<std::string> names = store.names();
    // kohya names SD 1.x UNet modules by their diffusers path, SDXL's by the original LDM one.
    const std::map<std::string, std::string> ldm =
        component == "unet" ? ldmUnetNames(names) : std::map<std::string, std::string>{};
    const auto kohyaName = [](std::string path) {
        path.resize(path.size() - 7);  // ".weight"
        for (char& c : path)
            if (c == '.') c = '_';
        return path;
    };
    for (const std::string& name : names) {
        if (!hasSuffix(name, ".weight")) continue;
        std::vector<std::string> candidates;
        for (const std::string& prefix : kohyaPrefixes(component)) {
            candidates.push_back(prefix + kohyaName(name));
            if (const auto it = ldm.find(name); it != ldm.end()) candidates.push_back(prefix + kohyaName(it->second));
        }
        for (const std::string& candidate : candidates) {
            const auto it = m_modules.find(candidate);
            if (it == m_modules.end()) continue;
            const Module& m = it->second;
            const WeightStore::Entry base = *store.find(name);
            const std::vector<int64_t> shape = base.tensorShape();
            int64_t numel = 1;
            for (int64_t d : shape) numel *= d;
            if (m.up->shape[0] * m.down->numel() / m.down->shape[0] != numel || shape.empty() ||
                shape[0] != m.up->shape[0])
                throw Error(file + ": module '" + it->first + "' (lora_up " + shapeText(m.up->shape) + ", lora_down " +
                            shapeText(m.down->shape) + ") does not fit '" + name + "' " + shapeText(shape));
            const double rank = static_cast<double>(m.down->shape[0]);
            const double scale = m_strength * (m.alpha > 0 ? m.alpha : rank) / rank;
            const std::string origin = base.file ? base.file->path().filename().string() : base.origin;
            const std::string fileName = m_path.filename().string();
            const TensorView* up = m.up;
            const TensorView* down = m.down;
            auto keep = m_file;
            store.addComputed(
                name, shape, origin + " + " + fileName,
                [base, up, down, scale, keep, name, origin, fileName, shape](float* values) {
                    const bool finite = fillFloat32(base, name, origin, values);
                    const torch::Tensor delta =
                        torch::mm(toDouble(*up, fileName).flatten(1), toDouble(*down, fileName).flatten(1)).view(shape);
                    torch::Tensor w = torch::from_blob(values, shape, torch::kFloat32);
                    w.copy_(w.to(torch::kFloat64).add(delta, scale).to(torch::kFloat32));
                    return finite && torch::isfinite(w).all().item<bool>();
                });
            used.insert(it->first);
        }
    }
}

void Lora::checkAllUsed(const std::set<std::string>& used) const
{
    for (const auto& [module, m] : m_modules)
        if (!used.count(module))
            throw Error(m_path.string() + ": LoRA module '" + module +
                        "' matches no layer of the model (a LoRA made for another base model?)");
}

}  // namespace spyglass::core
