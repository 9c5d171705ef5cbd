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
    if (!entry)
        throw Error((store.source().empty() ? std::string() : store.source() + ": ") + "missing tensor '" + name +
                    "' (expected shape " + shapeText(expected) + ")");
    const std::string origin = store.fileOf(name);
    if (entry->tensorShape() != expected)
        throw Error(origin + ": tensor '" + name + "' has shape " + shapeText(entry->tensorShape()) +
                    (entry->view ? ", config.json implies " : ", the model's metadata implies ") + shapeText(expected));
    torch::Tensor out;
    if (entry->fill) {
        // Computed (e.g. dequantized): written straight into the tensor, one copy in memory.
        out = torch::empty(expected, torch::kFloat32);
        entry->fill(out.data_ptr<float>());
        if (device != torch::kCPU) out = out.to(device);
    } else {
        const TensorView& view = *entry->view;
        torch::ScalarType type;
        switch (view.dtype) {
            case DType::F32:
                type = torch::kFloat32;
                break;
            case DType::F16:
                type = torch::kFloat16;
                break;
            case DType::BF16:
                type = torch::kBFloat16;
                break;
            case DType::F64:
                type = torch::kFloat64;
                break;
            default:
                throw Error(origin + ": tensor '" + name + "' has dtype " + std::string(dtypeName(view.dtype)) +
                            ", expected F32, F16 or BF16");
        }
        auto keepAlive = entry->file;
        void* data = const_cast<std::byte*>(view.data);  // read-only mapping: never written through
        const torch::Tensor t = view.byteSize == 0
                                    ? torch::empty(expected, torch::kFloat32)
                                    : torch::from_blob(
                                          data, expected, [keepAlive](void*) {}, torch::TensorOptions().dtype(type));
        // Always a copy, never the file's mapping: a checkpoint rewritten in place while Spyglass
        // has it loaded (a training script saving again) would otherwise fault the process
        // (SIGBUS), and the loaded model must stay what was loaded.
        out = t.to(device, torch::kFloat32, /*non_blocking=*/false, /*copy=*/true);
    }
    if (!torch::isfinite(out).all().item<bool>())
        throw Error(origin + ": tensor '" + name + "' holds NaN or Inf values");
    return out;
}

}  // namespace spyglass::core
