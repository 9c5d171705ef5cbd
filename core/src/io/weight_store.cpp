#include "io/weight_store.h"

#include "io/json_file.h"
#include "spyglass/error.h"

namespace spyglass::core {

namespace fs = std::filesystem;

bool isPickleFileName(const fs::path& p)
{
    const std::string ext = p.extension().string();
    return ext == ".bin" || ext == ".pt" || ext == ".pth" || ext == ".ckpt" || ext == ".pkl";
}

WeightStore WeightStore::openFolder(const fs::path& dir)
{
    WeightStore store;
    std::error_code ec;
    const fs::path index = dir / "model.safetensors.index.json";
    const fs::path single = dir / "model.safetensors";
    if (fs::exists(index, ec)) {
        const auto json = readJsonFile(index);
        if (!json.is_object() || !json.contains("weight_map") || !json["weight_map"].is_object())
            throw Error(index.string() + ": has no \"weight_map\" object");
        std::map<std::string, std::shared_ptr<const SafetensorsFile>> shards;
        for (auto it = json["weight_map"].begin(); it != json["weight_map"].end(); ++it) {
            if (!it->is_string())
                throw Error(index.string() + ": weight_map entry '" + it.key() + "' is not a file name");
            const std::string shardName = it->get<std::string>();
            if (shardName.find('/') != std::string::npos || shardName.find("..") != std::string::npos)
                throw Error(index.string() + ": shard name '" + shardName + "' must be a plain file name");
            auto& shard = shards[shardName];
            if (!shard) {
                if (!fs::exists(dir / shardName, ec))
                    throw Error(index.string() + ": shard '" + shardName + "' is missing from " + dir.string());
                shard = SafetensorsFile::open(dir / shardName);
            }
            const TensorView* view = shard->find(it.key());
            if (!view)
                throw Error(index.string() + ": tensor '" + it.key() + "' is listed in shard '" + shardName +
                            "' but not stored there");
            store.m_entries.emplace(it.key(), Entry{view, shard, {}, {}, {}, {}});
        }
        for (const auto& [name, shard] : shards)
            for (const auto& view : shard->tensors())
                if (!store.m_entries.count(view.name))
                    throw Error(shard->path().string() + ": tensor '" + view.name + "' is not listed in " +
                                index.filename().string());
        store.m_source = index.filename().string();
        return store;
    }
    std::vector<fs::path> candidates;
    std::vector<fs::path> pickles;
    if (fs::exists(single, ec)) {
        candidates.push_back(single);
    } else {
        for (const auto& entry : fs::directory_iterator(dir, ec)) {
            if (entry.path().extension() == ".safetensors")
                candidates.push_back(entry.path());
            else if (isPickleFileName(entry.path()))
                pickles.push_back(entry.path());
        }
    }
    if (candidates.empty()) {
        if (!pickles.empty())
            throw Error(dir.string() + ": only a pickle checkpoint '" + pickles.front().filename().string() +
                        "' is present; Spyglass never unpickles (it can execute code). Save the weights as "
                        "model.safetensors (e.g. with safetensors.torch.save_file) and open the folder again");
        throw Error(dir.string() + ": no weights found (expected model.safetensors or model.safetensors.index.json)");
    }
    if (candidates.size() > 1)
        throw Error(
            dir.string() +
            ": several .safetensors files and no model.safetensors.index.json to say which belong to the model");
    auto file = SafetensorsFile::open(candidates.front());
    store.m_source = file->path().filename().string();
    for (const auto& view : file->tensors()) store.m_entries.emplace(view.name, Entry{&view, file, {}, {}, {}, {}});
    return store;
}

const WeightStore::Entry* WeightStore::find(const std::string& name) const
{
    const auto it = m_entries.find(name);
    return it == m_entries.end() ? nullptr : &it->second;
}

std::vector<std::string> WeightStore::names() const
{
    std::vector<std::string> out;
    out.reserve(m_entries.size());
    for (const auto& [name, entry] : m_entries) out.push_back(name);
    return out;
}

std::string WeightStore::fileOf(const std::string& name) const
{
    const Entry* e = find(name);
    if (!e) return "?";
    return e->file ? e->file->path().filename().string() : e->origin;
}

void WeightStore::addComputed(const std::string& name, std::vector<int64_t> shape, std::string origin,
                              std::function<bool(float*)> fill)
{
    Entry entry;
    entry.shape = std::move(shape);
    entry.origin = std::move(origin);
    entry.fill = std::move(fill);
    m_entries.insert_or_assign(name, std::move(entry));
}

void WeightStore::addView(const std::string& name, TensorView view, std::shared_ptr<const SafetensorsFile> file)
{
    if (static_cast<size_t>(view.numel()) * dtypeSize(view.dtype) != view.byteSize)
        throw Error(file->path().string() + ": tensor '" + view.name + "' cannot be read with " +
                    std::to_string(view.shape.size()) + " dimensions of " + std::to_string(view.numel()) + " values");
    Entry entry;
    entry.ownedView = std::make_shared<const TensorView>(std::move(view));
    entry.view = entry.ownedView.get();
    entry.file = std::move(file);
    m_entries.insert_or_assign(name, std::move(entry));
}

}  // namespace spyglass::core
