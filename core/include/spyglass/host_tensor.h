#pragma once
// HostTensor — a torch-free float32 tensor on the host: how results cross from core to UI/CLI.
//
//   HostTensor t{{2, 3}, std::vector<float>(6)};
//   float x = t.at({1, 2});
//
// Thread safety: a value type.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace spyglass::core {

struct HostTensor {
    std::vector<int64_t> shape;
    std::vector<float> values;  // row-major

    [[nodiscard]] int64_t numel() const
    {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        return n;
    }
    [[nodiscard]] float at(std::initializer_list<int64_t> index) const
    {
        int64_t flat = 0;
        size_t axis = 0;
        for (int64_t i : index) flat = flat * shape[axis++] + i;
        return values[static_cast<size_t>(flat)];
    }
};

}  // namespace spyglass::core
