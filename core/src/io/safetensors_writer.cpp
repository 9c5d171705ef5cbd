#include "spyglass/error.h"
#include "spyglass/safetensors.h"

#include "io/atomic_file.h"

#include <nlohmann/json.hpp>

#include <cstring>

namespace spyglass::core {

void SafetensorsWriter::add(const std::string& name, DType dtype, std::vector<int64_t> shape,
                            std::vector<std::byte> bytes)
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

uint16_t floatToHalf(float value)
{
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    const uint32_t sign = (bits >> 16) & 0x8000u;
    const uint32_t absBits = bits & 0x7fffffffu;
    if (absBits >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (absBits > 0x7f800000u ? 0x200u : 0u));
    if (absBits >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow → Inf
    if (absBits < 0x38800000u) {                                               // subnormal half or zero
        if (absBits < 0x33000000u) return static_cast<uint16_t>(sign);
        const uint32_t exponent = absBits >> 23;
        const uint32_t mantissa = (absBits & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126 - exponent;  // half = value / 2^-24 = mantissa24 >> shift
        uint32_t half = mantissa >> shift;
        const uint32_t rest = mantissa & ((1u << shift) - 1);
        const uint32_t halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (half & 1u))) ++half;
        return static_cast<uint16_t>(sign | half);
    }
    uint32_t half = ((absBits - 0x38000000u) >> 13);
    const uint32_t rest = absBits & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);
}

uint16_t floatToBFloat16(float value)
{
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>(bits >> 16);
}

void SafetensorsWriter::addFloat(const std::string& name, const HostTensor& tensor, DType storeAs)
{
    if (storeAs != DType::F32 && storeAs != DType::F16 && storeAs != DType::BF16)
        throw Error("safetensors writer: tensor '" + name + "' can be stored as F32, F16 or BF16 only");
    std::vector<std::byte> bytes(tensor.values.size() * dtypeSize(storeAs));
    if (storeAs == DType::F32) {
        if (!bytes.empty()) std::memcpy(bytes.data(), tensor.values.data(), bytes.size());
    } else {
        for (size_t i = 0; i < tensor.values.size(); ++i) {
            const uint16_t h =
                storeAs == DType::F16 ? floatToHalf(tensor.values[i]) : floatToBFloat16(tensor.values[i]);
            std::memcpy(bytes.data() + 2 * i, &h, 2);
        }
    }
    add(name, storeAs, tensor.shape, std::move(bytes));
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
    std::string headerText = header.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
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
