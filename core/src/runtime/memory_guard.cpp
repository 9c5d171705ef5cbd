// The host tensor allocator behind setMemoryLimit(): libtorch's own CPU allocation routine with
// accounting, an optional cap, and allocation failures turned into OutOfMemory.
#include "spyglass/error.h"
#include "spyglass/runtime.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <type_traits>
#include <unordered_map>

namespace spyglass::core {

namespace {

std::atomic<uint64_t> g_limit{0};
std::atomic<uint64_t> g_inUse{0};
std::mutex g_sizesMutex;
std::unordered_map<void*, uint64_t> g_sizes;  // live blocks → bytes

std::string mib(uint64_t bytes)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return text;
}

void release(void* data)
{
    if (!data) return;
    uint64_t bytes = 0;
    {
        const std::lock_guard lock(g_sizesMutex);
        const auto it = g_sizes.find(data);
        if (it != g_sizes.end()) {
            bytes = it->second;
            g_sizes.erase(it);
        }
    }
    g_inUse.fetch_sub(bytes);
    c10::free_cpu(data);
}

c10::DataPtr allocateGuarded(size_t n)
{
    const uint64_t limit = g_limit.load();
    const uint64_t before = g_inUse.fetch_add(n);
    if (limit != 0 && before + n > limit) {
        g_inUse.fetch_sub(n);
        throw OutOfMemory("out of memory: " + mib(n) + " more would pass the memory limit of " + mib(limit) + " (" +
                          mib(before) +
                          " held by tensors); raise the memory limit or ask for less (fewer tokens, steps or methods)");
    }
    void* data = nullptr;
    try {
        data = c10::alloc_cpu(n);
        if (data) {
            const std::lock_guard lock(g_sizesMutex);
            g_sizes.emplace(data, n);
        }
    } catch (const std::exception&) {  // c10::Error from alloc_cpu, std::bad_alloc from the map
        if (data) c10::free_cpu(data);
        g_inUse.fetch_sub(n);
        throw OutOfMemory("out of memory: the system refused " + mib(n) + " (" + mib(before) +
                          " held by tensors); close other programs or ask for less (fewer tokens, steps or methods)");
    }
    if (!data) g_inUse.fetch_sub(n);
    return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
}

// libtorch 1.x declares Allocator::allocate const, 2.x does not: the partial specialisation that
// matches the headers in use is the only one instantiated.
constexpr bool kConstAllocate =
    std::is_same_v<decltype(&c10::Allocator::allocate), c10::DataPtr (c10::Allocator::*)(size_t) const>;

template <bool ConstAllocate, typename Base = c10::Allocator>
class GuardedAllocator;

template <typename Base>
class GuardedAllocator<true, Base> final : public Base {
public:
    c10::DataPtr allocate(size_t n) const override { return allocateGuarded(n); }
    c10::DeleterFnPtr raw_deleter() const override { return &release; }
    void copy_data(void* dest, const void* src, std::size_t count) const { std::memcpy(dest, src, count); }
};

template <typename Base>
class GuardedAllocator<false, Base> final : public Base {
public:
    c10::DataPtr allocate(size_t n) override { return allocateGuarded(n); }
    c10::DeleterFnPtr raw_deleter() const override { return &release; }
    void copy_data(void* dest, const void* src, std::size_t count) const override { std::memcpy(dest, src, count); }
};

void installOnce()
{
    static GuardedAllocator<kConstAllocate> allocator;
    static std::once_flag once;
    std::call_once(once, [] { c10::SetCPUAllocator(&allocator, /*priority=*/1); });
}

}  // namespace

void setMemoryLimit(uint64_t bytes)
{
    installOnce();
    g_limit.store(bytes);
}

uint64_t memoryLimit()
{
    return g_limit.load();
}

uint64_t tensorBytesInUse()
{
    return g_inUse.load();
}

uint64_t availableMemoryBytes()
{
    uint64_t available = UINT64_MAX;
    if (std::FILE* f = std::fopen("/proc/meminfo", "r")) {
        char line[256];
        unsigned long long kib = 0;
        while (std::fgets(line, sizeof line, f))
            if (std::sscanf(line, "MemAvailable: %llu kB", &kib) == 1) {
                available = static_cast<uint64_t>(kib) * 1024;
                break;
            }
        std::fclose(f);
    }
    if (const uint64_t limit = g_limit.load(); limit != 0) {
        const uint64_t held = g_inUse.load();
        available = std::min(available, limit > held ? limit - held : 0);
    }
    return available;
}

}  // namespace spyglass::core
