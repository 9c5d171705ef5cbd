#pragma once
// Overloaded{lambdas…} — one visitor from several lambdas, for std::visit over ReportUpdate.
namespace spyglass::core {

template <typename... Ts>
struct Overloaded : Ts... {
    using Ts::operator()...;
};
template <typename... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace spyglass::core
