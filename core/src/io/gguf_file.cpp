#include "io/gguf_file.h"

#include "io/ggml_types.h"
#include "spyglass/error.h"

#include <cstring>
#include <fstream>
#include <limits>
#include <regex>

namespace spyglass::core {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
constexpr uint64_t kDefaultAlignment = 32;

uint32_t byteSwap32(uint32_t v)
{
    return ((v & 0xFFU) << 24) | ((v & 0xFF00U) << 8) | ((v >> 8) & 0xFF00U) | (v >> 24);
}

// Minimum bytes one element of each type takes in the file (a nested array: its type and count).
uint64_t minimumBytes(GgufType type)
{
    switch (type) {
        case GgufType::U8:
        case GgufType::I8:
        case GgufType::Bool:
            return 1;
        case GgufType::U16:
        case GgufType::I16:
            return 2;
        case GgufType::U32:
        case GgufType::I32:
        case GgufType::F32:
            return 4;
        case GgufType::U64:
        case GgufType::I64:
        case GgufType::F64:
        case GgufType::String:
            return 8;
        case GgufType::Array:
            return 12;
    }
    return 1;
}

const char* typeName(GgufType type)
{
    static constexpr const char* kNames[] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                             "bool", "string", "array", "u64", "i64", "f64"};
    const auto index = static_cast<uint32_t>(type);
    return index < 13 ? kNames[index] : "unknown";
}

// Reads little-endian values from the mapped bytes; every read is bounds-checked and a failure
// names the file and the field being read.
class Reader {
public:
    Reader(const std::byte* data, uint64_t size, std::string file) : m_data(data), m_size(size), m_file(std::move(file))
    {
    }

    [[nodiscard]] uint64_t position() const { return m_pos; }
    [[nodiscard]] uint64_t remaining() const { return m_size - m_pos; }
    [[nodiscard]] Error error(const std::string& field, const std::string& reason) const
    {
        return Error(m_file + ": " + field + ": " + reason);
    }

    template <typename T>
    T read(const std::string& field)
    {
        if (remaining() < sizeof(T))
            throw error(field, "the file ends at byte " + std::to_string(m_size) + " (truncated)");
        T v;
        std::memcpy(&v, m_data + m_pos, sizeof(T));
        m_pos += sizeof(T);
        return v;
    }

    std::string string(const std::string& field)
    {
        const auto length = read<uint64_t>(field + " (length)");
        if (length > GgufFile::kMaxStringBytes)
            throw error(field, "string of " + std::to_string(length) + " bytes (at most 64 MiB)");
        if (length > remaining())
            throw error(field, "string of " + std::to_string(length) + " bytes runs past the end of the file");
        std::string s(reinterpret_cast<const char*>(m_data + m_pos), static_cast<size_t>(length));
        m_pos += length;
        return s;
    }

    GgufType type(const std::string& field)
    {
        const auto t = read<uint32_t>(field + " (type)");
        if (t > static_cast<uint32_t>(GgufType::F64)) throw error(field, "unknown value type " + std::to_string(t));
        return static_cast<GgufType>(t);
    }

    GgufValue value(GgufType type, const std::string& field, int depth)
    {
        GgufValue v;
        v.type = type;
        switch (type) {
            case GgufType::U8:
                setInteger(v, read<uint8_t>(field));
                break;
            case GgufType::I8:
                setInteger(v, read<int8_t>(field));
                break;
            case GgufType::U16:
                setInteger(v, read<uint16_t>(field));
                break;
            case GgufType::I16:
                setInteger(v, read<int16_t>(field));
                break;
            case GgufType::U32:
                setInteger(v, read<uint32_t>(field));
                break;
            case GgufType::I32:
                setInteger(v, read<int32_t>(field));
                break;
            case GgufType::I64:
                setInteger(v, read<int64_t>(field));
                break;
            case GgufType::U64: {
                const auto u = read<uint64_t>(field);
                v.integer = static_cast<int64_t>(u);
                v.number = static_cast<double>(u);
                break;
            }
            case GgufType::Bool: {
                const auto b = read<uint8_t>(field);
                if (b > 1) throw error(field, "bool of value " + std::to_string(b));
                setInteger(v, b);
                break;
            }
            case GgufType::F32:
                v.number = read<float>(field);
                break;
            case GgufType::F64:
                v.number = read<double>(field);
                break;
            case GgufType::String:
                v.text = string(field);
                break;
            case GgufType::Array:
                array(v, field, depth);
                break;
        }
        return v;
    }

private:
    static void setInteger(GgufValue& v, int64_t i)
    {
        v.integer = i;
        v.number = static_cast<double>(i);
    }

    void array(GgufValue& v, const std::string& field, int depth)
    {
        if (depth >= GgufFile::kMaxArrayDepth) throw error(field, "arrays nested deeper than 8");
        v.elementType = type(field + " (array element type)");
        v.length = read<uint64_t>(field + " (array length)");
        if (v.length > remaining() / minimumBytes(v.elementType))
            throw error(field, "array of " + std::to_string(v.length) + " " + typeName(v.elementType) +
                                   " values cannot fit in the " + std::to_string(remaining()) + " bytes left");
        const auto n = static_cast<size_t>(v.length);
        if (v.elementType == GgufType::String) {
            v.strings.reserve(n);
            for (size_t i = 0; i < n; ++i) v.strings.push_back(string(field + "[" + std::to_string(i) + "]"));
        } else if (v.elementType == GgufType::Array) {
            v.arrays.reserve(n);
            for (size_t i = 0; i < n; ++i)
                v.arrays.push_back(value(GgufType::Array, field + "[" + std::to_string(i) + "]", depth + 1));
        } else {
            v.numbers.reserve(n);
            v.integers.reserve(n);
            for (size_t i = 0; i < n; ++i) {
                const GgufValue e = value(v.elementType, field, depth + 1);
                v.numbers.push_back(e.number);
                v.integers.push_back(e.integer);
            }
        }
    }

    const std::byte* m_data;
    uint64_t m_size;
    uint64_t m_pos = 0;
    std::string m_file;
};

bool multiplyFits(int64_t a, int64_t b, int64_t& out)
{
    if (a != 0 && b > std::numeric_limits<int64_t>::max() / a) return false;
    out = a * b;
    return true;
}

// NAME-00001-of-00003.gguf → the path of part k (1-based), or empty when `path` is not so named.
std::filesystem::path splitPart(const std::filesystem::path& path, int k, int count)
{
    static const std::regex pattern(R"((.*)-(\d{5})-of-(\d{5})\.gguf)");
    std::smatch m;
    const std::string name = path.filename().string();
    if (!std::regex_match(name, m, pattern)) return {};
    char part[32];
    std::snprintf(part, sizeof part, "-%05d-of-%05d.gguf", k, count);
    return path.parent_path() / (m[1].str() + part);
}

}  // namespace

bool GgufValue::isInteger() const
{
    switch (type) {
        case GgufType::U8:
        case GgufType::I8:
        case GgufType::U16:
        case GgufType::I16:
        case GgufType::U32:
        case GgufType::I32:
        case GgufType::U64:
        case GgufType::I64:
        case GgufType::Bool:
            return true;
        default:
            return false;
    }
}

int64_t GgufTensor::numel() const
{
    int64_t n = 1;
    for (int64_t d : ne) n *= d;
    return n;
}

bool looksLikeGguf(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    return in.read(magic, 4) && (std::memcmp(magic, "GGUF", 4) == 0 || std::memcmp(magic, "FUGG", 4) == 0);
}

std::shared_ptr<const GgufFile> GgufFile::open(const std::filesystem::path& path)
{
    std::shared_ptr<GgufFile> gguf(new GgufFile());
    gguf->m_path = path;
    auto first = std::make_shared<const MappedFile>(path, "a GGUF file");
    gguf->parsePart(first, path, true);
    gguf->m_parts.push_back(first);
    const GgufValue* count = gguf->find("split.count");
    if (count && count->isInteger() && count->integer > 1) {
        if (count->integer > 9999)
            throw Error(path.string() + ": split.count: " + std::to_string(count->integer) + " parts");
        const int parts = static_cast<int>(count->integer);
        if (splitPart(path, 1, parts) != path)
            throw Error(path.string() + ": split.count is " + std::to_string(parts) +
                        ": open the first part (NAME-00001-of-" + (parts < 10 ? "0000" : "000") +
                        std::to_string(parts) + ".gguf)");
        for (int k = 2; k <= parts; ++k) {
            const std::filesystem::path part = splitPart(path, k, parts);
            auto map = std::make_shared<const MappedFile>(part, "a GGUF file");
            gguf->parsePart(map, part, false);
            gguf->m_parts.push_back(map);
        }
        if (const GgufValue* total = gguf->find("split.tensors.count");
            total && total->isInteger() && total->integer != static_cast<int64_t>(gguf->m_tensors.size()))
            throw Error(path.string() + ": split.tensors.count is " + std::to_string(total->integer) + " but the " +
                        std::to_string(parts) + " parts hold " + std::to_string(gguf->m_tensors.size()) + " tensors");
    }
    return gguf;
}

void GgufFile::parsePart(const std::shared_ptr<const MappedFile>& map, const std::filesystem::path& path, bool first)
{
    const std::string file = path.string();
    Reader r(map->data(), map->size(), file);
    const auto magic = r.read<uint32_t>("magic");
    if (magic != kMagic) {
        if (magic == byteSwap32(kMagic))
            throw Error(file + ": a big-endian GGUF file; only little-endian GGUF files are supported");
        throw Error(file + ": not a GGUF file (no GGUF magic)");
    }
    const auto version = r.read<uint32_t>("version");
    if (version == 1) throw Error(file + ": GGUF version 1 is not supported (versions 2 and 3 are)");
    if (version != 2 && version != 3) {
        if (byteSwap32(version) == 2 || byteSwap32(version) == 3)
            throw Error(file + ": a big-endian GGUF file; only little-endian GGUF files are supported");
        throw Error(file + ": GGUF version " + std::to_string(version) + " is not supported (versions 2 and 3 are)");
    }
    if (first) m_version = version;
    const auto tensorCount = r.read<uint64_t>("tensor_count");
    const auto kvCount = r.read<uint64_t>("metadata_kv_count");
    // A key-value pair takes at least 8 + 4 + 1 bytes, a tensor info at least 8 + 4 + 4 + 8 bytes.
    if (kvCount > r.remaining() / 13)
        throw r.error("metadata_kv_count", std::to_string(kvCount) + " pairs cannot fit in the file");
    if (tensorCount > r.remaining() / 24)
        throw r.error("tensor_count", std::to_string(tensorCount) + " tensors cannot fit in the file");
    std::map<std::string, GgufValue, std::less<>> metadata;
    for (uint64_t i = 0; i < kvCount; ++i) {
        const std::string key = r.string("metadata key " + std::to_string(i));
        const GgufType type = r.type(key.empty() ? "metadata key " + std::to_string(i) : key);
        GgufValue value = r.value(type, key, 0);
        if (!metadata.emplace(key, std::move(value)).second) throw r.error(key, "the key appears twice");
    }
    uint64_t alignment = kDefaultAlignment;
    if (const auto it = metadata.find("general.alignment"); it != metadata.end()) {
        if (!it->second.isInteger() || it->second.integer <= 0 || it->second.integer > (1 << 20) ||
            (it->second.integer & (it->second.integer - 1)) != 0)
            throw r.error("general.alignment",
                          "must be a power of two up to 2^20, got " + std::to_string(it->second.integer));
        alignment = static_cast<uint64_t>(it->second.integer);
    }
    struct Info {
        GgufTensor tensor;
        uint64_t offset;
    };
    std::vector<Info> infos;
    infos.reserve(static_cast<size_t>(tensorCount));
    for (uint64_t i = 0; i < tensorCount; ++i) {
        Info info;
        GgufTensor& t = info.tensor;
        t.name = r.string("tensor " + std::to_string(i) + " name");
        const std::string field = "tensor '" + t.name + "'";
        const auto dims = r.read<uint32_t>(field + " n_dims");
        if (dims == 0 || dims > kMaxDims) throw r.error(field, std::to_string(dims) + " dimensions (1 to 4)");
        int64_t count = 1;
        for (uint32_t d = 0; d < dims; ++d) {
            const auto n = r.read<uint64_t>(field + " ne[" + std::to_string(d) + "]");
            if (n == 0 || n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
                !multiplyFits(count, static_cast<int64_t>(n), count))
                throw r.error(field, "dimension " + std::to_string(d) + " of size " + std::to_string(n));
            t.ne.push_back(static_cast<int64_t>(n));
        }
        t.shape.assign(t.ne.rbegin(), t.ne.rend());
        t.type = r.read<uint32_t>(field + " type");
        info.offset = r.read<uint64_t>(field + " offset");
        const auto traits = ggmlTypeInfo(t.type);
        if (!traits) throw r.error(field, "unknown tensor type " + std::to_string(t.type));
        if (t.ne[0] % traits->blockSize != 0)
            throw r.error(field, "row length " + std::to_string(t.ne[0]) + " is not a multiple of the " + traits->name +
                                     " block size " + std::to_string(traits->blockSize));
        uint64_t bytes = 0;
        if (__builtin_mul_overflow(static_cast<uint64_t>(count / traits->blockSize),
                                   static_cast<uint64_t>(traits->bytesPerBlock), &bytes))
            throw r.error(
                field, std::to_string(count) + " values of " + traits->name + " need more bytes than a file can hold");
        t.byteSize = bytes;
        if (info.offset % alignment != 0)
            throw r.error(field, "data offset " + std::to_string(info.offset) + " is not a multiple of the alignment " +
                                     std::to_string(alignment));
        t.file = path.filename().string();
        infos.push_back(std::move(info));
    }
    const uint64_t dataStart = (r.position() + alignment - 1) / alignment * alignment;
    if (dataStart > map->size() && tensorCount > 0)
        throw Error(file + ": the tensor data would start at byte " + std::to_string(dataStart) +
                    ", past the end of the file");
    const uint64_t dataSize = map->size() - std::min<uint64_t>(dataStart, map->size());
    for (Info& info : infos) {
        GgufTensor& t = info.tensor;
        if (info.offset > dataSize || t.byteSize > dataSize - info.offset)
            throw Error(file + ": tensor '" + t.name + "': its " + std::to_string(t.byteSize) + " bytes at offset " +
                        std::to_string(info.offset) + " run past the end of the file (" + std::to_string(dataSize) +
                        " bytes of tensor data)");
        t.data = map->data() + dataStart + info.offset;
        if (!m_index.emplace(t.name, m_tensors.size()).second)
            throw Error(file + ": tensor '" + t.name + "' appears twice");
        m_tensors.push_back(std::move(t));
    }
    if (first) m_metadata = std::move(metadata);
}

const GgufValue* GgufFile::find(std::string_view key) const
{
    const auto it = m_metadata.find(key);
    return it == m_metadata.end() ? nullptr : &it->second;
}

const GgufTensor* GgufFile::findTensor(std::string_view name) const
{
    const auto it = m_index.find(name);
    return it == m_index.end() ? nullptr : &m_tensors[it->second];
}

const GgufTensor& GgufFile::tensor(std::string_view name) const
{
    if (const GgufTensor* t = findTensor(name)) return *t;
    throw Error(m_path.string() + ": missing tensor '" + std::string(name) + "'");
}

namespace {

[[noreturn]] void wrongType(const std::filesystem::path& path, std::string_view key, const char* wanted,
                            const GgufValue* v)
{
    throw Error(path.string() + ": metadata '" + std::string(key) + "': " +
                (v ? std::string("is ") + typeName(v->type) + ", expected " + wanted
                   : std::string("missing (expected ") + wanted + ")"));
}

}  // namespace

std::string GgufFile::string(std::string_view key) const
{
    const GgufValue* v = find(key);
    if (!v || v->type != GgufType::String) wrongType(m_path, key, "a string", v);
    return v->text;
}

int64_t GgufFile::integer(std::string_view key) const
{
    const GgufValue* v = find(key);
    if (!v || !v->isInteger()) wrongType(m_path, key, "an integer", v);
    return v->integer;
}

double GgufFile::number(std::string_view key) const
{
    const GgufValue* v = find(key);
    if (!v || !v->isNumber()) wrongType(m_path, key, "a number", v);
    return v->number;
}

bool GgufFile::boolean(std::string_view key) const
{
    const GgufValue* v = find(key);
    if (!v || v->type != GgufType::Bool) wrongType(m_path, key, "a bool", v);
    return v->integer != 0;
}

std::optional<int64_t> GgufFile::optionalInteger(std::string_view key) const
{
    return find(key) ? std::optional(integer(key)) : std::nullopt;
}

std::optional<double> GgufFile::optionalNumber(std::string_view key) const
{
    return find(key) ? std::optional(number(key)) : std::nullopt;
}

std::optional<bool> GgufFile::optionalBoolean(std::string_view key) const
{
    return find(key) ? std::optional(boolean(key)) : std::nullopt;
}

const std::vector<std::string>& GgufFile::strings(std::string_view key) const
{
    const GgufValue* v = find(key);
    if (!v || v->type != GgufType::Array || v->elementType != GgufType::String)
        wrongType(m_path, key, "an array of strings", v);
    return v->strings;
}

const std::vector<double>& GgufFile::numbers(std::string_view key) const
{
    const GgufValue* v = find(key);
    if (!v || v->type != GgufType::Array || v->elementType == GgufType::String || v->elementType == GgufType::Array)
        wrongType(m_path, key, "an array of numbers", v);
    return v->numbers;
}

std::vector<float> GgufFile::dequantize(const GgufTensor& tensor) const
{
    std::vector<float> out(static_cast<size_t>(tensor.numel()));
    (void)dequantizeInto(tensor, out.data());
    return out;
}

bool GgufFile::dequantizeInto(const GgufTensor& tensor, float* out) const
{
    try {
        MappedFile::populate(tensor.data, tensor.byteSize);
        const bool finite = dequantizeGgmlChecked(tensor.type, tensor.data, tensor.numel(), out);
        MappedFile::release(tensor.data, tensor.byteSize);
        return finite;
    } catch (const Error& e) {
        throw e.withContext(tensor.file + ": tensor '" + tensor.name + "'");
    }
}

}  // namespace spyglass::core
