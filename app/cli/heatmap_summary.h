#pragma once
// The per-word DAAM numbers of an image run, as `diffuse --heatmaps` and `batch --command diffuse`
// write them: word, its token rows and texts, mean and max of its latent-grid map, its share of all
// words' heat, and the image pixel where its upsampled map peaks.
#include "spyglass/diffusion.h"

#include <nlohmann/json.hpp>

namespace spyglass::cli {

[[nodiscard]] nlohmann::json heatmapWordsJson(const core::DiffusionResult& r);

}  // namespace spyglass::cli
