#include "spyglass/runtime.h"

#include "spyglass/error.h"

#include <torch/torch.h>

#include <malloc.h>
#include <unistd.h>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <regex>

// Present when the process's BLAS is OpenBLAS (Debian's libblas.so.3 alternative); weak so that
// other BLAS builds link too.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
extern "C" char* openblas_get_corename() __attribute__((weak));

namespace spyglass::core {

void tuneAllocator()
{
#if defined(__GLIBC__)
    // Large tensors (attention scores at 1,000 tokens: 48 MB a layer) were each a fresh mmap whose
    // pages the kernel zeroes on first touch: a 48 MB clone took 169 ms instead of 3 ms, softmax 195
    // instead of 16. Served from the heap and kept after free (up to 1 GiB at its top), the next
    // layer's tensors reuse the same pages. A user's own MALLOC_* settings win.
    for (const char* name : {"MALLOC_MMAP_MAX_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"})
        if (std::getenv(name)) return;
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
#endif
}

void reexecWithTunedBlas(int argc, char** argv)
{
    (void)argc;
    tuneAllocator();
    if (std::getenv("OPENBLAS_CORETYPE") || std::getenv("SPYGLASS_NO_REEXEC")) return;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) return;
    if (openblas_get_corename) {
        // Already an AVX-512 kernel (OpenBLAS recognised this CPU): nothing to gain.
        std::string core = openblas_get_corename();
        for (auto& c : core) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (const char* good : {"skylakex", "cooperlake", "sapphirerapids"})
            if (core == good) return;
    }
    ::setenv("OPENBLAS_CORETYPE", "SKYLAKEX", 1);
    ::execv("/proc/self/exe", argv);
    // exec failed: carry on with the untuned BLAS.
}

void setThreadCount(int n)
{
    if (n < 1) throw OptionError("threads", "must be at least 1 (got " + std::to_string(n) + ")");
    at::set_num_threads(n);
    if (openblas_set_num_threads) openblas_set_num_threads(n);
}

int threadCount()
{
    return at::get_num_threads();
}

bool cudaAvailable()
{
    return torch::cuda::is_available();
}

void checkDevice(const std::string& device)
{
    static const std::regex pattern("cpu|cuda(:[0-9]+)?");
    if (!std::regex_match(device, pattern))
        throw OptionError("device", "'" + device + "' is not recognised (use cpu, cuda or cuda:N)");
    if (device == "cpu") return;
    if (!cudaAvailable())
        throw OptionError(
            "device",
            "'" + device + "' is not available: this libtorch build has no CUDA or no GPU is visible; use cpu");
    const auto colon = device.find(':');
    const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
    int64_t index = 0;
    if (colon != std::string::npos) {
        const char* digits = device.c_str() + colon + 1;
        if (std::from_chars(digits, device.c_str() + device.size(), index).ec != std::errc())
            index = count;  // too many digits
    }
    if (index >= count)
        throw OptionError("device", "'" + device + "' is not available: " + std::to_string(count) + " CUDA device" +
                                        (count == 1 ? "" : "s") + " visible (cuda:0" +
                                        (count > 1 ? "…cuda:" + std::to_string(count - 1) : std::string()) + ")");
    // Exact numbers: TF32 would round matmul/convolution inputs to 10 mantissa bits on Ampere and
    // later, about 1e-3 away from the CPU and the references. Keep full float32.
    at::globalContext().setAllowTF32CuBLAS(false);
    at::globalContext().setAllowTF32CuDNN(false);
}

std::string runtimeDescription()
{
    std::string text = "libtorch " + std::string(TORCH_VERSION) + (cudaAvailable() ? ", CUDA available" : ", CPU only");
    if (openblas_get_corename) text += std::string(", OpenBLAS core ") + openblas_get_corename();
    text += ", " + std::to_string(threadCount()) + (threadCount() == 1 ? " thread" : " threads");
    return text;
}

}  // namespace spyglass::core
