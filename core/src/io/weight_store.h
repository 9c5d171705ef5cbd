#pragma once
// WeightStore — the tensors of a model folder: model.safetensors, or the shards listed in
// model.safetensors.index.json. Pickle checkpoints are refused (unpickling executes code).
// Thread safety: immutable after opening.
#include "spyglass/safetensors.h"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace spyglass::core {

// Names that PyTorch pickle checkpoints use (.bin, .pt, .pth, .ckpt, .pkl).
[[nodiscard]] bool isPickleFileName(const std::filesystem::path& p);

class WeightStore {
public:
    static WeightStore openFolder(const std::filesystem::path& dir);

    struct Entry {
        const TensorView* view;
        std::shared_ptr<const SafetensorsFile> file;
    };
    [[nodiscard]] const Entry* find(const std::string& name) const;
    [[nodiscard]] std::vector<std::string> names() const;
    // Which file holds `name` (for messages).
    [[nodiscard]] std::string fileOf(const std::string& name) const;

private:
    std::map<std::string, Entry> m_entries;
};

}  // namespace spyglass::core
