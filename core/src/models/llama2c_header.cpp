#include "models/llama2c_header.h"

#include "spyglass/error.h"

#include <array>
#include <fstream>
#include <string>

namespace spyglass::core {

namespace {

bool readRaw(const std::filesystem::path& file, Llama2cHeader& h, uint64_t& fileSize)
{
    std::ifstream in(file, std::ios::binary);
    if (!in) return false;
    std::array<int32_t, 7> v{};
    if (!in.read(reinterpret_cast<char*>(v.data()), sizeof v)) return false;
    h = {v[0], v[1], v[2], v[3], v[4], v[5], v[6]};
    std::error_code ec;
    fileSize = std::filesystem::file_size(file, ec);
    return !ec;
}

}  // namespace

bool Llama2cHeader::plausible() const
{
    return dim > 0 && hidden > 0 && layers > 0 && heads > 0 && kvHeads > 0 && vocab != 0 && seqLen > 0 &&
           dim <= 65536 && hidden <= 1 << 20 && layers <= 1024 && vocabSize() <= 1 << 22 && seqLen <= 1 << 22 &&
           dim % heads == 0 && heads % kvHeads == 0 && (dim / heads) % 2 == 0;
}

uint64_t Llama2cHeader::floatCount() const
{
    const uint64_t d = static_cast<uint64_t>(dim), f = static_cast<uint64_t>(hidden), l = static_cast<uint64_t>(layers);
    const uint64_t headSize = d / static_cast<uint64_t>(heads), kvDim = headSize * static_cast<uint64_t>(kvHeads);
    const uint64_t v = static_cast<uint64_t>(vocabSize());
    uint64_t n = v * d + l * d * 2 + l * d * d * 2 + l * kvDim * d * 2 + l * f * d * 3 + d;
    n += static_cast<uint64_t>(seqLen) * headSize;  // freq_cis_real + freq_cis_imag: seq_len × head_size/2 each
    if (separateClassifier()) n += v * d;
    return n;
}

bool looksLikeLlama2c(const std::filesystem::path& file)
{
    Llama2cHeader h;
    uint64_t size = 0;
    return readRaw(file, h, size) && h.plausible() && size == 28 + 4 * h.floatCount();
}

Llama2cHeader readLlama2cHeader(const std::filesystem::path& file)
{
    Llama2cHeader h;
    uint64_t size = 0;
    if (!readRaw(file, h, size)) throw Error(file.string() + ": cannot read a llama2.c header (7 int32)");
    if (!h.plausible())
        throw Error(file.string() + ": the llama2.c header is inconsistent (dim " + std::to_string(h.dim) + ", heads " +
                    std::to_string(h.heads) + ", kv heads " + std::to_string(h.kvHeads) + ", vocab " +
                    std::to_string(h.vocab) + ")");
    if (size != 28 + 4 * h.floatCount())
        throw Error(file.string() + ": " + std::to_string(size) + " bytes, but the llama2.c header implies " +
                    std::to_string(28 + 4 * h.floatCount()) + " (truncated, or not a v0 checkpoint)");
    return h;
}

}  // namespace spyglass::core
