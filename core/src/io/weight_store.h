#pragma once
// WeightStore — the tensors of a model: model.safetensors, or the shards listed in
// model.safetensors.index.json, or tensors computed on demand (a GGUF file's, dequantized under
// Hugging Face names). Pickle checkpoints are refused (unpickling executes code).
// Thread safety: immutable after opening.
#include "spyglass/safetensors.h"

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace spyglass::core {

// Names that PyTorch pickle checkpoints use (.bin, .pt, .pth, .ckpt, .pkl).
[[nodiscard]] bool isPickleFileName(const std::filesystem::path& p);

class WeightStore;
// Changes a store before a model is built from it (e.g. LoRAs merged into its weights).
using StoreAdjust = std::function<void(WeightStore&)>;

class WeightStore {
public:
    static WeightStore openFolder(const std::filesystem::path& dir);

    struct Entry {
        // Safetensors: a view into the mapped file.
        const TensorView* view = nullptr;
        std::shared_ptr<const SafetensorsFile> file;
        // Computed tensors: the row-major shape and a function writing the float32 values (it
        // owns what it reads) and returning false when any is NaN or ±Inf, and where they come
        // from, for messages.
        std::vector<int64_t> shape;
        std::function<bool(float*)> fill;
        std::string origin;
        // A view made for this store (a tensor renamed or reshaped from `file`'s): `view` points here.
        std::shared_ptr<const TensorView> ownedView;

        [[nodiscard]] const std::vector<int64_t>& tensorShape() const { return view ? view->shape : shape; }
    };
    [[nodiscard]] const Entry* find(const std::string& name) const;
    [[nodiscard]] std::vector<std::string> names() const;
    // Which file holds `name` (for messages).
    [[nodiscard]] std::string fileOf(const std::string& name) const;
    // Where a missing tensor was expected: "model.safetensors", the index file, the GGUF file.
    [[nodiscard]] const std::string& source() const { return m_source; }

    // A store of computed tensors (e.g. from a GGUF file named `source`).
    explicit WeightStore(std::string source = {}) : m_source(std::move(source)) {}
    void addComputed(const std::string& name, std::vector<int64_t> shape, std::string origin,
                     std::function<bool(float*)> fill);
    // `view` (of `file`, e.g. renamed or with a 1×1 convolution's shape squeezed to a matrix's)
    // stored under `name`. Throws Error when the shape does not hold the view's bytes.
    void addView(const std::string& name, TensorView view, std::shared_ptr<const SafetensorsFile> file);

private:
    std::map<std::string, Entry> m_entries;
    std::string m_source;
};

}  // namespace spyglass::core
