#pragma once
// Heatmap overlays and image files for the image-model views (OpenCV inside, plain bytes outside).
//
//   auto rgba = overlayHeatmap(rgb, w, h, map.data(), {.colormap = "jet", .alpha = 0.5});
//   writeRgbPng(rgba, w, h, "hand.png");
//
// Thread safety: pure functions.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace spyglass::core {

struct OverlayOptions {
    std::string colormap = "jet";     // one of colormapNames()
    double alpha = 0.5;               // opacity of the heatmap over the image
    std::optional<double> threshold;  // show only pixels with map > threshold (DAAM's mask, τ = 0.4)
};

[[nodiscard]] const std::vector<std::string>& colormapNames();
// `rgb`: width·height·3 bytes; `map`: width·height values in [0, 1] (clamped). Returns RGB bytes.
// Throws Error for an unknown colormap or alpha outside [0, 1].
[[nodiscard]] std::vector<uint8_t> overlayHeatmap(const std::vector<uint8_t>& rgb, int width, int height,
                                                  const float* map, const OverlayOptions& options);
// The colormap alone (no image under it).
[[nodiscard]] std::vector<uint8_t> colorizeHeatmap(int width, int height, const float* map,
                                                   const std::string& colormap);
// Writes RGB bytes as a PNG atomically (temporary file + rename); Error names the file.
// `parameters`, when given, goes into the PNG's "parameters" text chunk (A1111's generation text).
void writeRgbPng(const std::vector<uint8_t>& rgb, int width, int height, const std::filesystem::path& path,
                 const std::string& parameters = {});
// Reads a PNG/JPEG as RGB bytes; Error names the file.
[[nodiscard]] std::vector<uint8_t> readRgbImage(const std::filesystem::path& path, int& width, int& height);

}  // namespace spyglass::core
