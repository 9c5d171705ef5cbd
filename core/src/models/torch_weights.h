#pragma once
// Turning stored tensors into torch tensors on a device: zero-copy for aligned F32 on the CPU
// (the tensor keeps the mapped file alive), converted to float32 otherwise.
#include "io/weight_store.h"
#include "spyglass/host_tensor.h"

#include <torch/torch.h>

#include <string>
#include <vector>

namespace spyglass::core {

// Throws Error naming the file and tensor when the shape differs from `expected`.
[[nodiscard]] torch::Tensor loadWeight(const WeightStore& store, const std::string& name,
                                       const std::vector<int64_t>& expected, const torch::Device& device);

// Writes the float32 values of `entry` (decoded from its dtype, or computed) to `values`; false when
// any is NaN or ±Inf. Throws Error naming `origin` and `name` for a dtype that is not a float.
[[nodiscard]] bool fillFloat32(const WeightStore::Entry& entry, const std::string& name, const std::string& origin,
                               float* values);

// Copies a tensor to a float32 HostTensor on the host.
[[nodiscard]] HostTensor toHost(const torch::Tensor& t);

[[nodiscard]] std::string shapeText(const std::vector<int64_t>& shape);

}  // namespace spyglass::core
