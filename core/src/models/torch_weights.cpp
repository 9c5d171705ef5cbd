#include "models/torch_weights.h"

#include "spyglass/error.h"

namespace spyglass::core {

std::string shapeText(const std::vector<int64_t>& shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

HostTensor toHost(const torch::Tensor& t)
{
    const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    HostTensor out;
    out.shape = c.sizes().vec();
    out.values.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    return out;
}

torch::Tensor loadWeight(const WeightStore& store, const std::string& name, const std::vector<int64_t>& expected,
                         const torch::Device& device)
{
    const WeightStore::Entry* entry = store.find(name);
    if (!entry) throw Error("missing tensor '" + name + "' (expected shape " + shapeText(expected) + ")");
    const TensorView& view = *entry->view;
    if (view.shape != expected)
        throw Error(entry->file->path().filename().string() + ": tensor '" + name + "' has shape " + shapeText(view.shape) +
                    ", config.json implies " + shapeText(expected));
    torch::ScalarType type;
    switch (view.dtype) {
    case DType::F32: type = torch::kFloat32; break;
    case DType::F16: type = torch::kFloat16; break;
    case DType::BF16: type = torch::kBFloat16; break;
    case DType::F64: type = torch::kFloat64; break;
    default:
        throw Error(entry->file->path().filename().string() + ": tensor '" + name + "' has dtype " +
                    std::string(dtypeName(view.dtype)) + ", expected F32, F16 or BF16");
    }
    auto keepAlive = entry->file;
    void* data = const_cast<std::byte*>(view.data);  // read-only mapping: never written through
    torch::Tensor t;
    if (view.byteSize == 0) {
        t = torch::empty(expected, torch::kFloat32);
    } else {
        t = torch::from_blob(data, expected, [keepAlive](void*) {}, torch::TensorOptions().dtype(type));
    }
    // Always a copy, never the file's mapping: a checkpoint rewritten in place while Spyglass has
    // it loaded (a training script saving again) would otherwise fault the process (SIGBUS), and
    // the loaded model must stay what was loaded.
    torch::Tensor out = t.to(device, torch::kFloat32, /*non_blocking=*/false, /*copy=*/true);
    if (!torch::isfinite(out).all().item<bool>())
        throw Error(entry->file->path().filename().string() + ": tensor '" + name + "' holds NaN or Inf values");
    return out;
}

}  // namespace spyglass::core
