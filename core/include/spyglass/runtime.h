#pragma once
// Process-wide runtime settings: libtorch/BLAS threads, devices, the BLAS core type.
//
//   int main(int argc, char** argv) {
//       spyglass::core::reexecWithTunedBlas(argc, argv);   // first thing in main
//       spyglass::core::setThreadCount(threads);
//
// Thread safety: call these from main() before starting worker threads.
#include <cstdint>
#include <filesystem>
#include <string>

namespace spyglass::core {

// The default for --threads, measured with tests/bench (see README): 2 threads were no faster
// than 1 on the 2-core machines this project is built on.
inline constexpr int kDefaultThreadCount = 1;

// On AVX-512 CPUs that Debian's OpenBLAS 0.3.21 does not recognise it falls back to a slow
// kernel unless OPENBLAS_CORETYPE is set before the library loads, so this sets
// OPENBLAS_CORETYPE=SKYLAKEX and re-executes the program once. Does nothing when OpenBLAS already
// chose an AVX-512 kernel, when the variable is already set, on CPUs without AVX-512, or when
// SPYGLASS_NO_REEXEC is set. Returns only if it did not re-execute.
// Also calls tuneAllocator() first.
void reexecWithTunedBlas(int argc, char** argv);

// glibc's malloc keeps large blocks in its heap instead of a fresh mmap each (whose pages the
// kernel zeroes on first touch: 12× slower tensor ops at 1,000 tokens); skipped when MALLOC_MMAP_MAX_,
// MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_ is set.
void tuneAllocator();

// A model given by name: when `path` does not exist and is a bare name (no '/'), the shipped model
// of that name — <program>/../share/spyglass/models/NAME (installed), else the source tree's
// resources/models/NAME — when there is one; otherwise `path` unchanged. `spyglass-cli analyze
// --model spyglass-tiny` works from any directory.
[[nodiscard]] std::filesystem::path resolveModelPath(const std::filesystem::path& path);

// Sets libtorch's intra-op threads and OpenBLAS's threads (n ≥ 1).
void setThreadCount(int n);
[[nodiscard]] int threadCount();

// Host tensor memory: a cap on the bytes libtorch's CPU tensors may hold at once (0: none). The
// first call installs Spyglass's CPU allocator (libtorch's own routine plus accounting), after
// which a failed allocation — past the cap, or refused by the system — throws OutOfMemory naming
// the request, the cap and what is held, instead of a bare libtorch error. GPU memory is not
// counted (libtorch's CUDA allocator reports its own out-of-memory errors).
void setMemoryLimit(uint64_t bytes);
[[nodiscard]] uint64_t memoryLimit();
[[nodiscard]] uint64_t tensorBytesInUse();  // counted since the first setMemoryLimit() call
// What new host tensors can take now: the system's MemAvailable, or less when the memory limit
// leaves less. Models are refused before loading when their float32 weights need more.
[[nodiscard]] uint64_t availableMemoryBytes();

[[nodiscard]] bool cudaAvailable();
// Throws Error when `device` is not "cpu", "cuda" or "cuda:N", or CUDA (device N) is requested but
// absent. For CUDA it also turns TF32 off (cuBLAS and cuDNN), so GPU numbers match the CPU's.
void checkDevice(const std::string& device);
// The GUI thread must never run torch (it would freeze the window). forbidTorchOnThisThread()
// marks the calling thread; from then on every libtorch operator entered on it is counted (a
// global RecordFunction observer, which sees every dispatched operator), and
// forbiddenTorchCalls() says how many and which came first. The app's tests mark the GUI thread
// and assert zero at the end. One thread at a time can be marked; the observer costs a
// thread-id comparison per operator, so the app marks its GUI thread only when
// SPYGLASS_CHECK_GUI_THREAD is set.
void forbidTorchOnThisThread();
struct ForbiddenTorchCalls {
    int64_t count = 0;
    std::string firstOperator;
};
[[nodiscard]] ForbiddenTorchCalls forbiddenTorchCalls();

// e.g. "libtorch 1.13.1, CPU, OpenBLAS core SKYLAKEX, 1 thread"
[[nodiscard]] std::string runtimeDescription();

}  // namespace spyglass::core
