#pragma once
// Progress reporting for long core operations.
//
//   ProgressCallback cb = [](const Progress& p) { std::cerr << p.stage << ' ' << p.done; return true; };
//
// Returning false cancels: the operation throws spyglass::core::Cancelled at its next check
// (between tokens, layers or steps). The callback runs on the thread that runs the operation.
#include <functional>
#include <string>

namespace spyglass::core {

struct Progress {
    std::string stage;  // e.g. "generating"
    int done = 0;       // units finished in this stage
    int total = 0;      // units in this stage (0 when unknown)
};

using ProgressCallback = std::function<bool(const Progress&)>;

}  // namespace spyglass::core
