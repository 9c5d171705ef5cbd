#include "spyglass/error.h"
#include "spyglass/safetensors.h"

#include "io/atomic_file.h"

#include <nlohmann/json.hpp>

#include <cstring>

namespace spyglass::core {

void SafetensorsWriter::add(const std::string& name, DType dtype, std::vector<int64_t> shape, std::vector<std::byte> bytes)
{
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    if (static_cast<size_t>(count) * dtypeSize(dtype) != bytes.size())
        throw Error("safetensors writer: tensor '" + name + "' has " + std::to_string(bytes.size()) +
                    " bytes, its shape needs " + std::to_string(static_cast<size_t>(count) * dtypeSize(dtype)));
    for (const auto& e : m_entries)
        if (e.name == name) throw Error("safetensors writer: tensor '" + name + "' added twice");
    m_entries.push_back({name, dtype, std::move(shape), std::move(bytes)});
}

void SafetensorsWriter::addFloat(const std::string& name, const HostTensor& tensor)
{
    std::vector<std::byte> bytes(tensor.values.size() * 4);
    if (!bytes.empty()) std::memcpy(bytes.data(), tensor.values.data(), bytes.size());
    add(name, DType::F32, tensor.shape, std::move(bytes));
}

void SafetensorsWriter::addInt64(const std::string& name, const std::vector<int64_t>& values)
{
    std::vector<std::byte> bytes(values.size() * 8);
    if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    add(name, DType::I64, {static_cast<int64_t>(values.size())}, std::move(bytes));
}

void SafetensorsWriter::write(const std::filesystem::path& path) const
{
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!m_metadata.empty()) header["__metadata__"] = m_metadata;
    uint64_t offset = 0;
    for (const auto& e : m_entries) {
        header[e.name] = {{"dtype", std::string(dtypeName(e.dtype))},
                          {"shape", e.shape},
                          {"data_offsets", {offset, offset + e.bytes.size()}}};
        offset += e.bytes.size();
    }
    std::string headerText = header.dump();
    // Pad with spaces so the data section starts 8-byte aligned (as the reference writer does).
    while ((headerText.size() + 8) % 8 != 0) headerText.push_back(' ');
    AtomicFile out(path);
    const uint64_t headerSize = headerText.size();
    char lengthBytes[8];
    std::memcpy(lengthBytes, &headerSize, 8);
    out.write(lengthBytes, 8);
    out.write(headerText.data(), headerText.size());
    for (const auto& e : m_entries) out.write(reinterpret_cast<const char*>(e.bytes.data()), e.bytes.size());
    out.commit();
}

}  // namespace spyglass::core
