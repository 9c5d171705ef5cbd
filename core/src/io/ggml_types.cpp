#include "io/ggml_types.h"

#include "spyglass/error.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <thread>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace spyglass::core {

namespace {

constexpr int64_t kQK = 32;    // values per block of the Q4/Q5/Q8 formats
constexpr int64_t kQKK = 256;  // values per block of the K formats

struct Known {
    uint32_t type;
    GgmlTypeInfo info;
};

// ggml.h's enum ggml_type and ggml.c's type traits (block sizes and bytes per block).
constexpr std::array<Known, 28> kTypes{{
    {0, {"F32", 1, 4, true}},           {1, {"F16", 1, 2, true}},           {2, {"Q4_0", kQK, 18, true}},
    {3, {"Q4_1", kQK, 20, true}},       {6, {"Q5_0", kQK, 22, true}},       {7, {"Q5_1", kQK, 24, true}},
    {8, {"Q8_0", kQK, 34, true}},       {9, {"Q8_1", kQK, 36, false}},      {10, {"Q2_K", kQKK, 84, true}},
    {11, {"Q3_K", kQKK, 110, true}},    {12, {"Q4_K", kQKK, 144, true}},    {13, {"Q5_K", kQKK, 176, true}},
    {14, {"Q6_K", kQKK, 210, true}},    {15, {"Q8_K", kQKK, 292, false}},   {16, {"IQ2_XXS", kQKK, 66, false}},
    {17, {"IQ2_XS", kQKK, 74, false}},  {18, {"IQ3_XXS", kQKK, 98, false}}, {19, {"IQ1_S", kQKK, 50, false}},
    {20, {"IQ4_NL", kQK, 18, false}},   {21, {"IQ3_S", kQKK, 110, false}},  {22, {"IQ2_S", kQKK, 82, false}},
    {23, {"IQ4_XS", kQKK, 136, false}}, {24, {"I8", 1, 1, false}},          {25, {"I16", 1, 2, false}},
    {26, {"I32", 1, 4, false}},         {27, {"I64", 1, 8, false}},         {28, {"F64", 1, 8, false}},
    {30, {"BF16", 1, 2, true}},
}};

uint16_t u16(const std::byte* p)
{
    uint16_t v = 0;
    std::memcpy(&v, p, 2);
    return v;
}

float half(const std::byte* p)
{
    return ggmlHalfToFloat(u16(p));
}

#if defined(__x86_64__)
// F16 → F32 eight at a time with the F16C instruction (exact, as every half is a float).
__attribute__((target("avx,f16c"))) void halvesToFloatsF16c(const std::byte* data, int64_t count, float* out)
{
    int64_t i = 0;
    for (; i + 8 <= count; i += 8)
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 2 * i))));
    for (; i < count; ++i) out[i] = half(data + 2 * i);
}
#endif

const uint8_t* bytes(const std::byte* p)
{
    return reinterpret_cast<const uint8_t*>(p);
}

// The K formats keep 6-bit scales and mins packed in 12 bytes.
void scaleMinK4(int j, const uint8_t* q, uint8_t& d, uint8_t& m)
{
    if (j < 4) {
        d = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

void q4_0(const std::byte* block, float* y)
{
    const float d = half(block);
    const uint8_t* qs = bytes(block + 2);
    for (int j = 0; j < kQK / 2; ++j) {
        y[j] = static_cast<float>((qs[j] & 0x0F) - 8) * d;
        y[j + kQK / 2] = static_cast<float>((qs[j] >> 4) - 8) * d;
    }
}

void q4_1(const std::byte* block, float* y)
{
    const float d = half(block);
    const float m = half(block + 2);
    const uint8_t* qs = bytes(block + 4);
    for (int j = 0; j < kQK / 2; ++j) {
        y[j] = static_cast<float>(qs[j] & 0x0F) * d + m;
        y[j + kQK / 2] = static_cast<float>(qs[j] >> 4) * d + m;
    }
}

void q5_0(const std::byte* block, float* y)
{
    const float d = half(block);
    uint32_t qh = 0;
    std::memcpy(&qh, block + 2, 4);
    const uint8_t* qs = bytes(block + 6);
    for (int j = 0; j < kQK / 2; ++j) {
        const uint8_t xh0 = static_cast<uint8_t>(((qh >> (j + 0)) << 4) & 0x10);
        const uint8_t xh1 = static_cast<uint8_t>(((qh >> (j + 12))) & 0x10);
        const int32_t x0 = ((qs[j] & 0x0F) | xh0) - 16;
        const int32_t x1 = ((qs[j] >> 4) | xh1) - 16;
        y[j] = static_cast<float>(x0) * d;
        y[j + kQK / 2] = static_cast<float>(x1) * d;
    }
}

void q5_1(const std::byte* block, float* y)
{
    const float d = half(block);
    const float m = half(block + 2);
    uint32_t qh = 0;
    std::memcpy(&qh, block + 4, 4);
    const uint8_t* qs = bytes(block + 8);
    for (int j = 0; j < kQK / 2; ++j) {
        const uint8_t xh0 = static_cast<uint8_t>(((qh >> (j + 0)) << 4) & 0x10);
        const uint8_t xh1 = static_cast<uint8_t>(((qh >> (j + 12))) & 0x10);
        const int x0 = (qs[j] & 0x0F) | xh0;
        const int x1 = (qs[j] >> 4) | xh1;
        y[j] = static_cast<float>(x0) * d + m;
        y[j + kQK / 2] = static_cast<float>(x1) * d + m;
    }
}

void q8_0(const std::byte* block, float* y)
{
    const float d = half(block);
    const auto* qs = reinterpret_cast<const int8_t*>(block + 2);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(qs[j]) * d;
}

// block_q2_K: scales[16], qs[64], d, dmin
void q2_k(const std::byte* block, float* y)
{
    const uint8_t* scales = bytes(block);
    const uint8_t* q = bytes(block + 16);
    const float d = half(block + 80);
    const float min = half(block + 82);
    int is = 0;
    for (int n = 0; n < kQKK; n += 128) {
        int shift = 0;
        for (int j = 0; j < 4; ++j) {
            uint8_t sc = scales[is++];
            float dl = d * static_cast<float>(sc & 0xF);
            float ml = min * static_cast<float>(sc >> 4);
            for (int l = 0; l < 16; ++l) *y++ = dl * static_cast<float>(static_cast<int8_t>((q[l] >> shift) & 3)) - ml;
            sc = scales[is++];
            dl = d * static_cast<float>(sc & 0xF);
            ml = min * static_cast<float>(sc >> 4);
            for (int l = 0; l < 16; ++l)
                *y++ = dl * static_cast<float>(static_cast<int8_t>((q[l + 16] >> shift) & 3)) - ml;
            shift += 2;
        }
        q += 32;
    }
}

// block_q3_K: hmask[32], qs[64], scales[12], d
void q3_k(const std::byte* block, float* y)
{
    const uint8_t* hm = bytes(block);
    const uint8_t* q = bytes(block + 32);
    const float dAll = half(block + 108);
    constexpr uint32_t kmask1 = 0x03030303;
    constexpr uint32_t kmask2 = 0x0f0f0f0f;
    std::array<uint32_t, 4> aux{};
    std::memcpy(aux.data(), block + 96, 12);
    const uint32_t tmp = aux[2];
    aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
    aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
    aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
    aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
    std::array<int8_t, 16> scales{};
    std::memcpy(scales.data(), aux.data(), 16);
    int is = 0;
    uint8_t m = 1;
    for (int n = 0; n < kQKK; n += 128) {
        int shift = 0;
        for (int j = 0; j < 4; ++j) {
            float dl = dAll * static_cast<float>(scales[static_cast<size_t>(is++)] - 32);
            for (int l = 0; l < 16; ++l)
                *y++ =
                    dl * static_cast<float>(static_cast<int8_t>((q[l + 0] >> shift) & 3) - ((hm[l + 0] & m) ? 0 : 4));
            dl = dAll * static_cast<float>(scales[static_cast<size_t>(is++)] - 32);
            for (int l = 0; l < 16; ++l)
                *y++ =
                    dl * static_cast<float>(static_cast<int8_t>((q[l + 16] >> shift) & 3) - ((hm[l + 16] & m) ? 0 : 4));
            shift += 2;
            m = static_cast<uint8_t>(m << 1);
        }
        q += 32;
    }
}

// block_q4_K: d, dmin, scales[12], qs[128]
void q4_k(const std::byte* block, float* y)
{
    const float d = half(block);
    const float min = half(block + 2);
    const uint8_t* scales = bytes(block + 4);
    const uint8_t* q = bytes(block + 16);
    int is = 0;
    uint8_t sc = 0, m = 0;
    for (int j = 0; j < kQKK; j += 64) {
        scaleMinK4(is + 0, scales, sc, m);
        const float d1 = d * static_cast<float>(sc);
        const float m1 = min * static_cast<float>(m);
        scaleMinK4(is + 1, scales, sc, m);
        const float d2 = d * static_cast<float>(sc);
        const float m2 = min * static_cast<float>(m);
        for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
        for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
        q += 32;
        is += 2;
    }
}

// block_q5_K: d, dmin, scales[12], qh[32], qs[128]
void q5_k(const std::byte* block, float* y)
{
    const float d = half(block);
    const float min = half(block + 2);
    const uint8_t* scales = bytes(block + 4);
    const uint8_t* qh = bytes(block + 16);
    const uint8_t* ql = bytes(block + 48);
    int is = 0;
    uint8_t sc = 0, m = 0;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < kQKK; j += 64) {
        scaleMinK4(is + 0, scales, sc, m);
        const float d1 = d * static_cast<float>(sc);
        const float m1 = min * static_cast<float>(m);
        scaleMinK4(is + 1, scales, sc, m);
        const float d2 = d * static_cast<float>(sc);
        const float m2 = min * static_cast<float>(m);
        for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
        for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
        ql += 32;
        is += 2;
        u1 = static_cast<uint8_t>(u1 << 2);
        u2 = static_cast<uint8_t>(u2 << 2);
    }
}

// block_q6_K: ql[128], qh[64], scales[16] (int8), d
void q6_k(const std::byte* block, float* y)
{
    const uint8_t* ql = bytes(block);
    const uint8_t* qh = bytes(block + 128);
    const auto* sc = reinterpret_cast<const int8_t*>(block + 192);
    const float d = half(block + 208);
    for (int n = 0; n < kQKK; n += 128) {
        for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const auto q1 = static_cast<int8_t>(((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
            const auto q2 = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
            const auto q3 = static_cast<int8_t>(((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
            const auto q4 = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            y[l + 0] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
            y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
            y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
            y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

using BlockDecoder = void (*)(const std::byte*, float*);

BlockDecoder decoderFor(uint32_t type)
{
    switch (type) {
        case 2:
            return q4_0;
        case 3:
            return q4_1;
        case 6:
            return q5_0;
        case 7:
            return q5_1;
        case 8:
            return q8_0;
        case 10:
            return q2_k;
        case 11:
            return q3_k;
        case 12:
            return q4_k;
        case 13:
            return q5_k;
        case 14:
            return q6_k;
        default:
            return nullptr;
    }
}

}  // namespace

float ggmlHalfToFloat(uint16_t h)
{
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000U) << 16;
    uint32_t exponent = (h >> 10) & 0x1FU;
    uint32_t mantissa = h & 0x3FFU;
    uint32_t bits = 0;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            int32_t e = -14;
            while ((mantissa & 0x400U) == 0) {
                mantissa <<= 1;
                --e;
            }
            mantissa &= 0x3FFU;
            bits = sign | (static_cast<uint32_t>(e + 127) << 23) | (mantissa << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7F800000U | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 112U) << 23) | (mantissa << 13);
    }
    float f = 0;
    std::memcpy(&f, &bits, 4);
    return f;
}

std::optional<GgmlTypeInfo> ggmlTypeInfo(uint32_t type)
{
    for (const Known& k : kTypes)
        if (k.type == type) return k.info;
    return std::nullopt;
}

std::string ggmlTypeName(uint32_t type)
{
    const auto info = ggmlTypeInfo(type);
    return info ? std::string(info->name) : "type " + std::to_string(type);
}

std::string dequantizableGgmlTypes()
{
    std::string out;
    for (const Known& k : kTypes)
        if (k.info.dequantizable) out += (out.empty() ? "" : ", ") + std::string(k.info.name);
    return out;
}

void halvesToFloats(const std::byte* data, int64_t count, float* out)
{
#if defined(__x86_64__)
    static const bool f16c = [] {  // CPUID.1:ECX F16C (29), AVX (28), OSXSAVE (27); the OS saves YMM
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (!__get_cpuid(1, &a, &b, &c, &d) || (c & (7u << 27)) != (7u << 27)) return false;
        unsigned lo = 0, hi = 0;
        __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        return (lo & 6u) == 6u;
    }();
    if (f16c) {
        halvesToFloatsF16c(data, count, out);
        return;
    }
#endif
    for (int64_t i = 0; i < count; ++i) out[i] = half(data + 2 * i);
}

void bfloat16sToFloats(const std::byte* data, int64_t count, float* out)
{
    for (int64_t i = 0; i < count; ++i) {
        const uint32_t bits = static_cast<uint32_t>(u16(data + 2 * i)) << 16;
        std::memcpy(out + i, &bits, 4);
    }
}

void dequantizeGgml(uint32_t type, const std::byte* data, int64_t count, float* out)
{
    const auto info = ggmlTypeInfo(type);
    if (!info || !info->dequantizable)
        throw Error("tensors of type " + ggmlTypeName(type) +
                    " cannot be dequantized yet (supported: " + dequantizableGgmlTypes() + ")");
    if (count % info->blockSize != 0)
        throw Error(std::to_string(count) + " values are not a whole number of " + info->name + " blocks");
    switch (type) {
        case 0:
            std::memcpy(out, data, static_cast<size_t>(count) * 4);
            return;
        case 1:
            halvesToFloats(data, count, out);
            return;
        case 30:
            bfloat16sToFloats(data, count, out);
            return;
        default:
            break;
    }
    const BlockDecoder decode = decoderFor(type);
    const int64_t blocks = count / info->blockSize;
    for (int64_t b = 0; b < blocks; ++b) decode(data + b * info->bytesPerBlock, out + b * info->blockSize);
}

bool allFinite(const float* values, int64_t count)
{
    uint32_t worst = 0;  // the largest exponent field: all ones only for NaN and ±Inf
    for (int64_t i = 0; i < count; ++i) {
        uint32_t bits;
        std::memcpy(&bits, values + i, sizeof bits);
        worst = std::max(worst, bits & 0x7f800000u);
    }
    return worst != 0x7f800000u;
}

bool dequantizeGgmlChecked(uint32_t type, const std::byte* data, int64_t count, float* out)
{
    const auto info = ggmlTypeInfo(type);
    if (!info || !info->dequantizable || count % info->blockSize != 0) {
        dequantizeGgml(type, data, count, out);  // throws the message
        return allFinite(out, count);
    }
    const int64_t blockValues = info->blockSize, blockBytes = info->bytesPerBlock, blocks = count / blockValues;
    const int64_t piece = std::max<int64_t>(1, 16384 / blockValues);  // 64 KiB of floats: still in L2 when checked
    auto decode = [&](int64_t firstBlock, int64_t endBlock) {
        bool finite = true;
        for (int64_t b = firstBlock; b < endBlock; b += piece) {
            const int64_t n = std::min(piece, endBlock - b) * blockValues;
            float* to = out + b * blockValues;
            dequantizeGgml(type, data + b * blockBytes, n, to);
            finite = allFinite(to, n) && finite;
        }
        return finite;
    };
    if (count < (int64_t{1} << 22)) return decode(0, blocks);
    // Two threads: the second also takes its share of the kernel's zeroing of fresh pages.
    bool second = true;
    std::exception_ptr failure;
    std::thread helper([&] {
        try {
            second = decode(blocks / 2, blocks);
        } catch (...) {
            failure = std::current_exception();
        }
    });
    bool first = true;
    try {
        first = decode(0, blocks / 2);
    } catch (...) {
        helper.join();
        throw;
    }
    helper.join();
    if (failure) std::rethrow_exception(failure);
    return first && second;
}

}  // namespace spyglass::core
