#include "io/sha256.h"

#include "io/atomic_file.h"
#include "spyglass/error.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <fstream>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace spyglass::core {

namespace {

constexpr std::array<uint32_t, 64> kRound{
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

uint32_t rotr(uint32_t x, int n)
{
    return (x >> n) | (x << (32 - n));
}

#if defined(__x86_64__)
// `count` 64-byte blocks with the x86 SHA extensions (sha256rnds2 does two rounds, sha256msg1/2
// the message schedule): ~5x the portable code. The state is kept as ABEF / CDGH, the order
// sha256rnds2 works in.
__attribute__((target("sha,sse4.1"))) void blocksWithShaExtensions(uint32_t* state, const uint8_t* data, size_t count)
{
    const __m128i byteSwap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i cdab = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(state)), 0xB1);
    __m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4)), 0x1B);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
    for (; count > 0; --count, data += 64) {
        const __m128i abefSaved = abef, cdghSaved = cdgh;
        __m128i w[4];  // W[4g .. 4g+3] of the last four groups, group g in w[g % 4]
        for (int g = 0; g < 16; ++g) {
            __m128i& m = w[g % 4];
            if (g < 4) {
                m = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * g)), byteSwap);
            } else {
                // W[t] = σ1(W[t−2]) + W[t−7] + σ0(W[t−15]) + W[t−16], four at a time.
                const __m128i& previous = w[(g + 3) % 4];
                m = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(m, w[(g + 1) % 4]),
                                                       _mm_alignr_epi8(previous, w[(g + 2) % 4], 4)),
                                         previous);
            }
            __m128i k = _mm_add_epi32(m, _mm_loadu_si128(reinterpret_cast<const __m128i*>(kRound.data() + 4 * g)));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, k);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(k, 0x0E));
        }
        abef = _mm_add_epi32(abef, abefSaved);
        cdgh = _mm_add_epi32(cdgh, cdghSaved);
    }
    const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(state), _mm_blend_epi16(feba, dchg, 0xF0));   // DCBA
    _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), _mm_alignr_epi8(dchg, feba, 8));  // HGFE
}

bool cpuHasShaExtensions()
{
    static const bool has = [] {  // CPUID.7.0:EBX SHA (29), CPUID.1:ECX SSE4.1 (19) and SSSE3 (9)
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (!__get_cpuid(1, &a, &b, &c, &d) || (c & (1u << 19)) == 0 || (c & (1u << 9)) == 0) return false;
        return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29)) != 0;
    }();
    return has;
}
#else
void blocksWithShaExtensions(uint32_t*, const uint8_t*, size_t) {}
bool cpuHasShaExtensions()
{
    return false;
}
#endif

}  // namespace

Sha256::Sha256(Implementation implementation)
    : m_state{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19},
      m_hardware(implementation == Implementation::Fastest && cpuHasShaExtensions())
{
}

bool Sha256::hardwareAccelerated() const
{
    return m_hardware;
}

void Sha256::blocks(const uint8_t* data, size_t count)
{
    if (m_hardware) {
        blocksWithShaExtensions(m_state.data(), data, count);
        return;
    }
    for (size_t i = 0; i < count; ++i) block(data + 64 * i);
}

void Sha256::block(const uint8_t* chunk)
{
    uint32_t w[64];
    for (int i = 0; i < 16; ++i)
        w[i] = (uint32_t(chunk[4 * i]) << 24) | (uint32_t(chunk[4 * i + 1]) << 16) | (uint32_t(chunk[4 * i + 2]) << 8) |
               chunk[4 * i + 3];
    for (int i = 16; i < 64; ++i) {
        const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = m_state[0], b = m_state[1], c = m_state[2], d = m_state[3], e = m_state[4], f = m_state[5],
             g = m_state[6], h = m_state[7];
    for (int i = 0; i < 64; ++i) {
        const uint32_t t1 =
            h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kRound[static_cast<size_t>(i)] + w[i];
        const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    m_state[0] += a;
    m_state[1] += b;
    m_state[2] += c;
    m_state[3] += d;
    m_state[4] += e;
    m_state[5] += f;
    m_state[6] += g;
    m_state[7] += h;
}

void Sha256::update(const void* data, size_t size)
{
    const auto* bytes = static_cast<const uint8_t*>(data);
    m_length += size;
    if (m_buffered > 0) {  // complete the partial block first
        const size_t take = std::min(size, 64 - m_buffered);
        std::memcpy(m_buffer.data() + m_buffered, bytes, take);
        m_buffered += take;
        bytes += take;
        size -= take;
        if (m_buffered < 64) return;
        blocks(m_buffer.data(), 1);
        m_buffered = 0;
    }
    blocks(bytes, size / 64);  // whole blocks straight from the input
    const size_t rest = size % 64;
    std::memcpy(m_buffer.data(), bytes + size - rest, rest);
    m_buffered = rest;
}

std::string Sha256::hexDigest()
{
    const uint64_t bits = m_length * 8;
    const uint8_t pad = 0x80;
    update(&pad, 1);
    const uint8_t zero = 0;
    while (m_buffered != 56) update(&zero, 1);
    uint8_t length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
    update(length, 8);
    static const char* const kHex = "0123456789abcdef";
    std::string out;
    for (uint32_t word : m_state)
        for (int shift = 28; shift >= 0; shift -= 4) out.push_back(kHex[(word >> shift) & 0xF]);
    return out;
}

std::string sha256Files(const std::vector<std::filesystem::path>& files, const std::atomic<bool>* stop)
{
    Sha256 hash;
    std::vector<char> buffer(1 << 22);
    for (const auto& file : files) {
        std::ifstream in(file, std::ios::binary);
        if (!in) throw Error(file.string() + ": cannot read for hashing");
        while (in) {
            if (stop && stop->load()) return {};
            in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            hash.update(buffer.data(), static_cast<size_t>(in.gcount()));
        }
    }
    return hash.hexDigest();
}

namespace {

std::filesystem::path cacheFile()
{
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        return std::filesystem::path(xdg) / "spyglass" / "sha256-cache.json";
    if (const char* home = std::getenv("HOME"); home && *home)
        return std::filesystem::path(home) / ".cache" / "spyglass" / "sha256-cache.json";
    return {};
}

}  // namespace

std::string sha256FilesCached(const std::vector<std::filesystem::path>& files, const std::atomic<bool>* stop)
{
    std::string key;
    std::error_code ec;
    for (const auto& f : files) {
        const auto absolute = std::filesystem::absolute(f, ec).string();
        const auto size = std::filesystem::file_size(f, ec);
        const auto time = std::filesystem::last_write_time(f, ec).time_since_epoch().count();
        key += absolute + "|" + std::to_string(size) + "|" + std::to_string(time) + ";";
    }
    const std::filesystem::path cache = cacheFile();
    nlohmann::json entries = nlohmann::json::object();
    if (!cache.empty()) {
        std::ifstream in(cache);
        if (in) entries = nlohmann::json::parse(in, nullptr, false);
        if (!entries.is_object()) entries = nlohmann::json::object();
        if (entries.contains(key) && entries[key].is_string()) return entries[key].get<std::string>();
    }
    const std::string hash = sha256Files(files, stop);
    if (!cache.empty() && !hash.empty()) {
        try {
            std::filesystem::create_directories(cache.parent_path(), ec);
            if (entries.size() > 1000) entries = nlohmann::json::object();
            entries[key] = hash;
            const std::string text = entries.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            AtomicFile out(cache);
            out.write(text.data(), text.size());
            out.commit();
        } catch (const std::exception&) {
            // A read-only or full cache folder only costs the next run a re-hash.
        }
    }
    return hash;
}

}  // namespace spyglass::core
