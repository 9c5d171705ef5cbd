#pragma once
// The facts and lists the built-in corpus teaches (and `eval` checks). Birth years are the
// commonly cited ones (Gregorian).
#include <string>
#include <utility>
#include <vector>

namespace spyglass::core {

struct NamedList {
    std::string title;  // "Days of the week"
    std::vector<std::string> items;
};

[[nodiscard]] const std::vector<std::pair<std::string, int>>& birthYears();
[[nodiscard]] const std::vector<NamedList>& namedLists();

}  // namespace spyglass::core
