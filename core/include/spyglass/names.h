#pragma once
// The methods, modes and verdicts of Spyglass as typed enums, with the one table of their names:
// the names written in reports and settings, accepted by the CLI and shown by the app.
//
//   SaliencyMethod m = parseName<SaliencyMethod>("occlusion").value();   // nullopt if unknown
//   std::string_view s = name(LensMode::Raw);                            // "raw"
//   for (SaliencyMethod each : allValues<SaliencyMethod>()) …
//   nameChoices<LensMode>()                                               // "normed, raw or sublayer"
//
// Thread safety: constants and pure functions.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace spyglass::core {

enum class SaliencyMethod { GradXInput, Gradient, IntegratedGradients, Occlusion };
enum class SaliencyTarget { Prob, Logit };
enum class LensMode { Normed, Raw, Sublayer };
enum class ProjectionMethod { Pca, Umap };
enum class ProjectionSource { MlpAct, Resid };
enum class ClusterMethod { KMeans, Nmf };
// What a prompt-lab chunk does to the region (core::ChunkScore::verdict).
enum class Verdict { ChangesRegion, ChangesElsewhere, NoEffect };

// Names<E>::list[i] is the name of the enumerator with value i; Names<E>::what says what E is.
template <typename E>
struct Names;
template <>
struct Names<SaliencyMethod> {
    static constexpr std::string_view what = "saliency method";
    static constexpr std::array<std::string_view, 4> list{"grad_x_input", "gradient", "integrated_gradients",
                                                          "occlusion"};
};
template <>
struct Names<SaliencyTarget> {
    static constexpr std::string_view what = "saliency target";
    static constexpr std::array<std::string_view, 2> list{"prob", "logit"};
};
template <>
struct Names<LensMode> {
    static constexpr std::string_view what = "lens mode";
    static constexpr std::array<std::string_view, 3> list{"normed", "raw", "sublayer"};
};
template <>
struct Names<ProjectionMethod> {
    static constexpr std::string_view what = "projection method";
    static constexpr std::array<std::string_view, 2> list{"pca", "umap"};
};
template <>
struct Names<ProjectionSource> {
    static constexpr std::string_view what = "projection source";
    static constexpr std::array<std::string_view, 2> list{"mlp_act", "resid"};
};
template <>
struct Names<ClusterMethod> {
    static constexpr std::string_view what = "cluster method";
    static constexpr std::array<std::string_view, 2> list{"kmeans", "nmf"};
};
template <>
struct Names<Verdict> {
    static constexpr std::string_view what = "verdict";
    static constexpr std::array<std::string_view, 3> list{"changes the region", "changes only elsewhere",
                                                          "no measurable effect — can be deleted"};
};

template <typename E>
[[nodiscard]] constexpr std::string_view name(E value)
{
    return Names<E>::list.at(static_cast<std::size_t>(value));
}

template <typename E>
[[nodiscard]] std::string nameString(E value)
{
    return std::string(name(value));
}

template <typename E>
[[nodiscard]] constexpr std::optional<E> parseName(std::string_view text)
{
    for (std::size_t i = 0; i < Names<E>::list.size(); ++i)
        if (Names<E>::list[i] == text) return static_cast<E>(i);
    return std::nullopt;
}

template <typename E>
[[nodiscard]] constexpr auto allValues()
{
    std::array<E, Names<E>::list.size()> values{};
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<E>(i);
    return values;
}

// "a, b or c"
template <typename E>
[[nodiscard]] std::string nameChoices()
{
    std::string out;
    const auto& list = Names<E>::list;
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (i > 0) out += i + 1 == list.size() ? " or " : ", ";
        out += list[i];
    }
    return out;
}

// parseName or an Error "unknown <what> 'text' (choices)" (thrown by names.cpp, so that this
// header needs no error.h).
[[noreturn]] void throwUnknownName(std::string_view what, std::string_view text, const std::string& choices);
template <typename E>
[[nodiscard]] E parseNameOrThrow(std::string_view text)
{
    if (auto value = parseName<E>(text)) return *value;
    throwUnknownName(Names<E>::what, text, nameChoices<E>());
}

}  // namespace spyglass::core
