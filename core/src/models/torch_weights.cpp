#include "models/torch_weights.h"

#include "io/ggml_types.h"
#include "io/mapped_file.h"
#include "spyglass/error.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace spyglass::core {

namespace {

// A fresh tensor about to be written once: asked for in transparent huge pages (the system's
// default is to ask). Faulting it in 4 KiB page by page cost more than the copy itself (measured
// with tests/bench/run_load_bench.sh). A hint: errors are ignored.
void prepareFreshMemory(void* data, size_t bytes)
{
    if (bytes < (4u << 20)) return;
    const uintptr_t begin = reinterpret_cast<uintptr_t>(data), end = begin + bytes, huge = 2u << 20;
    const uintptr_t hugeBegin = (begin + huge - 1) & ~(huge - 1), hugeEnd = end & ~(huge - 1);
    if (hugeEnd > hugeBegin) (void)::madvise(reinterpret_cast<void*>(hugeBegin), hugeEnd - hugeBegin, MADV_HUGEPAGE);
}

}  // namespace

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

bool fillFloat32(const WeightStore::Entry& entry, const std::string& name, const std::string& origin, float* values)
{
    int64_t count = 1;
    for (int64_t d : entry.tensorShape()) count *= d;
    bool finite = true;
    if (entry.fill) {
        // Computed (e.g. dequantized): written straight into the tensor, one copy in memory.
        finite = entry.fill(values);
    } else {
        // Always a copy, never the file's mapping: a checkpoint rewritten in place while Spyglass
        // has it loaded (a training script saving again) would otherwise fault the process
        // (SIGBUS), and the loaded model must stay what was loaded.
        const TensorView& view = *entry.view;
        MappedFile::populate(view.data, view.byteSize);
        switch (view.dtype) {  // as the ggml types F32, F16, BF16: decoded and checked in one pass
            case DType::F32:
                finite = dequantizeGgmlChecked(0, view.data, count, values);
                break;
            case DType::F16:
                finite = dequantizeGgmlChecked(1, view.data, count, values);
                break;
            case DType::BF16:
                finite = dequantizeGgmlChecked(30, view.data, count, values);
                break;
            case DType::F64:
                for (int64_t i = 0; i < count; ++i) {
                    double v;
                    std::memcpy(&v, view.data + 8 * i, sizeof v);
                    values[i] = static_cast<float>(v);
                }
                finite = allFinite(values, count);
                break;
            default:
                throw Error(origin + ": tensor '" + name + "' has dtype " + std::string(dtypeName(view.dtype)) +
                            ", expected F32, F16 or BF16");
        }
        MappedFile::release(view.data, view.byteSize);
    }
    return finite;
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
    // float32 on the CPU, checked, then moved to `device`.
    torch::Tensor out = torch::empty(expected, torch::kFloat32);
    float* values = out.data_ptr<float>();
    const int64_t count = out.numel();
    prepareFreshMemory(values, static_cast<size_t>(count) * sizeof(float));
    const bool finite = fillFloat32(*entry, name, origin, values);
    if (!finite) throw Error(origin + ": tensor '" + name + "' holds NaN or Inf values");
    return device == torch::kCPU ? out : out.to(device);
}

}  // namespace spyglass::core
