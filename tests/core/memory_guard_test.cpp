// The host tensor allocator behind --memory-limit (#9): every CPU tensor is counted while it
// lives, the cap is exact, and an allocation the system refuses becomes OutOfMemory with the size
// instead of a bare libtorch error.
#include "test_support.h"

#include "spyglass/error.h"
#include "spyglass/runtime.h"

#include <torch/torch.h>

using namespace spyglass::core;

TEST(MemoryGuard, CountsLiveTensorsAndEnforcesTheCap)
{
    setMemoryLimit(0);
    const uint64_t base = tensorBytesInUse();
    {
        const torch::Tensor t = torch::empty({1 << 20}, torch::kFloat32);  // 4 MiB
        EXPECT_EQ(tensorBytesInUse(), base + (4u << 20));
        setMemoryLimit(base + (6u << 20));
        EXPECT_THROW((void)torch::empty({1 << 20}, torch::kFloat32), OutOfMemory);  // 8 MiB > 6
        EXPECT_EQ(tensorBytesInUse(), base + (4u << 20));                           // the refused one is not counted
        const torch::Tensor small = torch::ones({1 << 18}, torch::kFloat32);        // 1 MiB fits
        EXPECT_EQ(small.sum().item<float>(), static_cast<float>(1 << 18));
        setMemoryLimit(0);
    }
    EXPECT_EQ(tensorBytesInUse(), base);
}

TEST(MemoryGuard, ARefusedAllocationNamesItsSize)
{
    setMemoryLimit(0);
    try {
        (void)torch::empty({int64_t{1} << 40}, torch::kFloat32);  // 4 TiB
        FAIL() << "the system gave 4 TiB";
    } catch (const OutOfMemory& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("out of memory: the system refused 4194304.0 MiB"), std::string::npos) << what;
    }
    EXPECT_EQ(torch::ones({3}).sum().item<float>(), 3.0F);  // and the process goes on
}
