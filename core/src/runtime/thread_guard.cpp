// forbidTorchOnThisThread(): a global RecordFunction observer that counts the operators entered on
// the marked thread (runtime.h).
#include "spyglass/runtime.h"

#include <ATen/record_function.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace spyglass::core {

namespace {

std::atomic<std::thread::id> g_forbidden{};
std::atomic<int64_t> g_count{0};
std::mutex g_firstMutex;
std::string g_first;

std::unique_ptr<at::ObserverContext> onOperator(const at::RecordFunction& fn)
{
    if (std::this_thread::get_id() != g_forbidden.load(std::memory_order_relaxed)) return nullptr;
    if (g_count.fetch_add(1) == 0) {
        const std::lock_guard lock(g_firstMutex);
        g_first = fn.name();
    }
    return nullptr;
}

}  // namespace

void forbidTorchOnThisThread()
{
    static std::once_flag installed;
    std::call_once(installed,
                   [] { at::addGlobalCallback(at::RecordFunctionCallback(&onOperator).needsInputs(false)); });
    g_forbidden = std::this_thread::get_id();
}

ForbiddenTorchCalls forbiddenTorchCalls()
{
    const std::lock_guard lock(g_firstMutex);
    return {g_count.load(), g_first};
}

}  // namespace spyglass::core
