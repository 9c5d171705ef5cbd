#pragma once
// Writes GGUF v3 files for tests: raw little-endian bytes (for hostile files) and a builder of
// whole files with metadata and F32 tensors, in the layout llama.cpp's gguf-py writes (keys, then
// tensor infos with offsets aligned to general.alignment, then the data).
#include "spyglass/safetensors.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace spyglass::test {

class GgufBytes {
public:
    template <typename T>
    GgufBytes& put(T v)
    {
        const auto* p = reinterpret_cast<const char*>(&v);
        m_bytes.append(p, sizeof v);
        return *this;
    }
    GgufBytes& str(const std::string& s)
    {
        put<uint64_t>(s.size());
        m_bytes += s;
        return *this;
    }
    GgufBytes& pad(size_t alignment)
    {
        while (m_bytes.size() % alignment != 0) m_bytes += '\0';
        return *this;
    }
    GgufBytes& bytes(const void* data, size_t size)
    {
        m_bytes.append(static_cast<const char*>(data), size);
        return *this;
    }
    GgufBytes& append(const GgufBytes& other)
    {
        m_bytes += other.m_bytes;
        return *this;
    }
    [[nodiscard]] const std::string& bytes() const { return m_bytes; }
    [[nodiscard]] size_t size() const { return m_bytes.size(); }

private:
    std::string m_bytes;
};

class GgufBuilder {
public:
    GgufBuilder& u32(const std::string& key, uint32_t v)
    {
        kv(key, 4).put<uint32_t>(v);
        return *this;
    }
    GgufBuilder& f32(const std::string& key, float v)
    {
        kv(key, 6).put<float>(v);
        return *this;
    }
    GgufBuilder& str(const std::string& key, const std::string& v)
    {
        kv(key, 8).str(v);
        return *this;
    }
    GgufBuilder& boolean(const std::string& key, bool v)
    {
        kv(key, 7).put<uint8_t>(v ? 1 : 0);
        return *this;
    }
    GgufBuilder& strings(const std::string& key, const std::vector<std::string>& values)
    {
        GgufBytes& b = kv(key, 9).put<uint32_t>(8).put<uint64_t>(values.size());
        for (const auto& v : values) b.str(v);
        return *this;
    }
    GgufBuilder& i32s(const std::string& key, const std::vector<int32_t>& values)
    {
        GgufBytes& b = kv(key, 9).put<uint32_t>(5).put<uint64_t>(values.size());
        for (int32_t v : values) b.put<int32_t>(v);
        return *this;
    }
    GgufBuilder& f32s(const std::string& key, const std::vector<float>& values)
    {
        GgufBytes& b = kv(key, 9).put<uint32_t>(6).put<uint64_t>(values.size());
        for (float v : values) b.put<float>(v);
        return *this;
    }
    // An F32 tensor; `t.shape` is row-major (the last dimension is ggml's ne[0]).
    GgufBuilder& tensor(const std::string& name, const core::HostTensor& t)
    {
        return raw(name, t.shape, 0, t.values.data(), t.values.size() * sizeof(float));
    }
    // A tensor of ggml type `type` (0 F32, 1 F16, …) whose encoded bytes are given.
    GgufBuilder& raw(const std::string& name, const std::vector<int64_t>& shape, uint32_t type, const void* data,
                     size_t bytes)
    {
        m_infos.str(name).put<uint32_t>(static_cast<uint32_t>(shape.size()));
        for (auto it = shape.rbegin(); it != shape.rend(); ++it) m_infos.put<uint64_t>(static_cast<uint64_t>(*it));
        m_data.pad(32);
        m_infos.put<uint32_t>(type).put<uint64_t>(m_data.size());
        m_data.bytes(data, bytes);
        ++m_tensorCount;
        return *this;
    }
    void write(const std::filesystem::path& path) const
    {
        GgufBytes head;
        head.put<uint32_t>(0x46554747).put<uint32_t>(3).put<uint64_t>(m_tensorCount).put<uint64_t>(m_keyCount);
        head.append(m_keys).append(m_infos).pad(32);
        std::ofstream out(path, std::ios::binary);
        out << head.bytes() << m_data.bytes();
    }

private:
    GgufBytes& kv(const std::string& key, uint32_t type)
    {
        ++m_keyCount;
        return m_keys.str(key).put<uint32_t>(type);
    }

    GgufBytes m_keys, m_infos, m_data;
    uint64_t m_keyCount = 0, m_tensorCount = 0;
};

}  // namespace spyglass::test
