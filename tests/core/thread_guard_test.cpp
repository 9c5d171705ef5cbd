// The GUI-thread guard (#14): every libtorch operator entered on the marked thread is counted,
// operators on other threads are not. The UI tests rely on it to assert that the GUI thread never
// runs torch.
#include "spyglass/runtime.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <thread>

using namespace spyglass::core;

TEST(ThreadGuard, CountsTheOperatorsOfTheMarkedThreadOnly)
{
    const int64_t before = forbiddenTorchCalls().count;
    std::thread gui([] {
        forbidTorchOnThisThread();
        const torch::Tensor a = torch::ones({4, 4});
        (void)torch::matmul(a, a).sum().item<float>();
    });
    gui.join();
    const ForbiddenTorchCalls after = forbiddenTorchCalls();
    EXPECT_GE(after.count - before, 3);  // ones, matmul, sum (and what they dispatch to)
    EXPECT_FALSE(after.firstOperator.empty());
    // The marked thread has ended; work on this thread is not counted.
    (void)torch::ones({2}).sum().item<float>();
    EXPECT_EQ(forbiddenTorchCalls().count, after.count);
}
