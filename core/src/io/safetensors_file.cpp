#include "io/ggml_types.h"
#include "io/mapped_file.h"
#include "spyglass/error.h"
#include "spyglass/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace spyglass::core {

namespace {

struct DTypeInfo {
    DType dtype;
    std::string_view name;
    size_t size;
};

constexpr std::array<DTypeInfo, 10> kDTypes{{
    {DType::F64, "F64", 8},
    {DType::F32, "F32", 4},
    {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2},
    {DType::I64, "I64", 8},
    {DType::I32, "I32", 4},
    {DType::I16, "I16", 2},
    {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},
    {DType::Bool, "BOOL", 1},
}};

const DTypeInfo& info(DType dtype)
{
    for (const auto& d : kDTypes)
        if (d.dtype == dtype) return d;
    throw Error("unknown dtype");
}

std::string fileError(const std::filesystem::path& path, const std::string& reason)
{
    return path.string() + ": " + reason;
}

// Multiplies with overflow detection; false when the product does not fit.
bool mulChecked(uint64_t a, uint64_t b, uint64_t& out)
{
    return !__builtin_mul_overflow(a, b, &out);
}

template <typename T>
void convertPlain(const std::byte* src, size_t count, float* dst)
{
    for (size_t i = 0; i < count; ++i) {
        T v;
        std::memcpy(&v, src + i * sizeof(T), sizeof(T));
        dst[i] = static_cast<float>(v);
    }
}

}  // namespace

size_t dtypeSize(DType dtype)
{
    return info(dtype).size;
}
std::string_view dtypeName(DType dtype)
{
    return info(dtype).name;
}

std::optional<DType> parseDType(std::string_view name)
{
    for (const auto& d : kDTypes)
        if (d.name == name) return d.dtype;
    return std::nullopt;
}

int64_t TensorView::numel() const
{
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

void convertToFloat(DType dtype, const std::byte* src, size_t count, float* dst)
{
    switch (dtype) {
        case DType::F32:
            std::memcpy(dst, src, count * 4);
            return;
        case DType::F64:
            convertPlain<double>(src, count, dst);
            return;
        case DType::F16:
            for (size_t i = 0; i < count; ++i) {
                uint16_t h;
                std::memcpy(&h, src + 2 * i, 2);
                dst[i] = ggmlHalfToFloat(h);
            }
            return;
        case DType::BF16:
            for (size_t i = 0; i < count; ++i) {
                uint16_t h;
                std::memcpy(&h, src + 2 * i, 2);
                const uint32_t bits = static_cast<uint32_t>(h) << 16;
                std::memcpy(&dst[i], &bits, 4);
            }
            return;
        case DType::I64:
            convertPlain<int64_t>(src, count, dst);
            return;
        case DType::I32:
            convertPlain<int32_t>(src, count, dst);
            return;
        case DType::I16:
            convertPlain<int16_t>(src, count, dst);
            return;
        case DType::I8:
            convertPlain<int8_t>(src, count, dst);
            return;
        case DType::U8:
        case DType::Bool:
            convertPlain<uint8_t>(src, count, dst);
            return;
    }
}

std::shared_ptr<const SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path)
{
    std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
    file->m_path = path;
    file->m_file = std::make_shared<const MappedFile>(path, "a safetensors file");
    file->m_mapSize = file->m_file->size();
    file->parse();
    return file;
}

SafetensorsFile::~SafetensorsFile() = default;

void SafetensorsFile::parse()
{
    const std::byte* bytes = m_file->data();
    if (m_mapSize >= 4 && std::memcmp(bytes, "PK\x03\x04", 4) == 0)
        throw Error(fileError(m_path,
                              "is a zip archive (a PyTorch pickle checkpoint?), not safetensors; "
                              "Spyglass never unpickles, convert it to safetensors"));
    if (m_mapSize >= 1 && static_cast<unsigned char>(bytes[0]) == 0x80 && m_mapSize >= 2 &&
        static_cast<unsigned char>(bytes[1]) <= 5)
        throw Error(fileError(m_path,
                              "is a Python pickle, not safetensors; Spyglass never unpickles "
                              "(it can execute code), convert it to safetensors"));
    if (m_mapSize < 8)
        throw Error(fileError(m_path, "truncated: " + std::to_string(m_mapSize) +
                                          " bytes, a safetensors file starts with an 8-byte header length"));
    uint64_t headerSize = 0;
    std::memcpy(&headerSize, bytes, 8);  // little-endian on every supported platform
    if (headerSize > m_mapSize - 8)
        throw Error(fileError(m_path, "header length " + std::to_string(headerSize) +
                                          " runs past the end of the file (" + std::to_string(m_mapSize) +
                                          " bytes); the file is truncated or not safetensors"));
    if (headerSize > kMaxHeaderBytes)
        throw Error(fileError(m_path, "header length " + std::to_string(headerSize) + " exceeds the limit of " +
                                          std::to_string(kMaxHeaderBytes) + " bytes"));
    const char* headerBegin = reinterpret_cast<const char*>(bytes + 8);
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(headerBegin, headerBegin + headerSize);
    } catch (const nlohmann::json::exception& e) {
        throw Error(fileError(m_path, std::string("header is not valid JSON: ") + e.what()));
    }
    if (!header.is_object()) throw Error(fileError(m_path, "header is not a JSON object"));
    if (header.size() > kMaxTensors)
        throw Error(fileError(m_path, "header lists " + std::to_string(header.size()) +
                                          " entries, more than the limit of " + std::to_string(kMaxTensors)));

    const std::byte* dataBegin = bytes + 8 + headerSize;
    const uint64_t dataSize = m_mapSize - 8 - headerSize;
    struct Range {
        uint64_t begin, end;
        size_t tensor;
    };
    std::vector<Range> ranges;
    m_tensors.reserve(header.size());
    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string& name = it.key();
        if (name == "__metadata__") {
            if (!it->is_object()) throw Error(fileError(m_path, "__metadata__ is not an object"));
            for (auto m = it->begin(); m != it->end(); ++m) {
                if (!m->is_string())
                    throw Error(fileError(m_path, "__metadata__ value '" + m.key() + "' is not a string"));
                m_metadata[m.key()] = m->get<std::string>();
            }
            continue;
        }
        auto tensorError = [&](const std::string& reason) {
            return Error(fileError(m_path, "tensor '" + name + "': " + reason));
        };
        const auto& entry = *it;
        if (!entry.is_object()) throw tensorError("entry is not a JSON object");
        if (!entry.contains("dtype") || !entry["dtype"].is_string()) throw tensorError("missing dtype");
        const std::string dtypeText = entry["dtype"].get<std::string>();
        const auto dtype = parseDType(dtypeText);
        if (!dtype)
            throw tensorError("unknown dtype '" + dtypeText +
                              "' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
        if (!entry.contains("shape") || !entry["shape"].is_array()) throw tensorError("missing shape");
        if (!entry.contains("data_offsets") || !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2)
            throw tensorError("data_offsets must be an array of two integers");
        TensorView view;
        view.name = name;
        view.dtype = *dtype;
        uint64_t count = 1;
        for (const auto& d : entry["shape"]) {
            if (!d.is_number_unsigned()) throw tensorError("shape holds a value that is not a non-negative integer");
            const uint64_t dim = d.get<uint64_t>();
            if (dim > static_cast<uint64_t>(INT64_MAX) || !mulChecked(count, dim, count))
                throw tensorError("shape size overflows");
            view.shape.push_back(static_cast<int64_t>(dim));
        }
        uint64_t expectedBytes = 0;
        if (!mulChecked(count, dtypeSize(*dtype), expectedBytes)) throw tensorError("shape size overflows");
        const auto& offsets = entry["data_offsets"];
        if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
            throw tensorError("data_offsets must be non-negative integers");
        const uint64_t begin = offsets[0].get<uint64_t>();
        const uint64_t end = offsets[1].get<uint64_t>();
        if (begin > end)
            throw tensorError("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "] are reversed");
        if (end > dataSize)
            throw tensorError("ends past the file (offset " + std::to_string(end) + " > " + std::to_string(dataSize) +
                              " data bytes); the file is truncated");
        if (end - begin != expectedBytes)
            throw tensorError("shape × dtype size is " + std::to_string(expectedBytes) +
                              " bytes but data_offsets span " + std::to_string(end - begin) + " bytes");
        view.data = dataBegin + begin;
        view.byteSize = static_cast<size_t>(end - begin);
        ranges.push_back({begin, end, m_tensors.size()});
        m_tensors.push_back(std::move(view));
    }
    std::sort(ranges.begin(), ranges.end(),
              [](const Range& a, const Range& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
    for (size_t i = 1; i < ranges.size(); ++i) {
        if (ranges[i].begin < ranges[i - 1].end)
            throw Error(fileError(m_path, "tensors '" + m_tensors[ranges[i - 1].tensor].name + "' and '" +
                                              m_tensors[ranges[i].tensor].name + "' overlap in the data section"));
    }
    std::sort(m_tensors.begin(), m_tensors.end(),
              [](const TensorView& a, const TensorView& b) { return a.name < b.name; });
    for (size_t i = 0; i < m_tensors.size(); ++i) m_index.emplace(m_tensors[i].name, i);
}

const TensorView* SafetensorsFile::find(std::string_view name) const
{
    const auto it = m_index.find(name);
    return it == m_index.end() ? nullptr : &m_tensors[it->second];
}

const TensorView& SafetensorsFile::get(std::string_view name) const
{
    const TensorView* view = find(name);
    if (!view) throw Error(fileError(m_path, "has no tensor '" + std::string(name) + "'"));
    return *view;
}

HostTensor SafetensorsFile::readFloat(std::string_view name) const
{
    const TensorView& view = get(name);
    HostTensor out;
    out.shape = view.shape;
    out.values.resize(static_cast<size_t>(view.numel()));
    convertToFloat(view.dtype, view.data, out.values.size(), out.values.data());
    return out;
}

std::vector<int64_t> SafetensorsFile::readInt64(std::string_view name) const
{
    const TensorView& view = get(name);
    const size_t n = static_cast<size_t>(view.numel());
    std::vector<int64_t> out(n);
    switch (view.dtype) {
        case DType::I64:
            std::memcpy(out.data(), view.data, n * 8);
            break;
        case DType::I32:
            for (size_t i = 0; i < n; ++i) {
                int32_t v;
                std::memcpy(&v, view.data + 4 * i, 4);
                out[i] = v;
            }
            break;
        default:
            throw Error(fileError(m_path, "tensor '" + view.name + "' is " + std::string(dtypeName(view.dtype)) +
                                              ", expected I64 or I32"));
    }
    return out;
}

}  // namespace spyglass::core
