#include "spyglass/heatmap_overlay.h"

#include "spyglass/atomic_write.h"
#include "spyglass/error.h"
#include "spyglass/generation_parameters.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <map>

namespace spyglass::core {

namespace {

const std::map<std::string, int>& colormaps()
{
    static const std::map<std::string, int> m{{"jet", cv::COLORMAP_JET},         {"turbo", cv::COLORMAP_TURBO},
                                              {"viridis", cv::COLORMAP_VIRIDIS}, {"inferno", cv::COLORMAP_INFERNO},
                                              {"magma", cv::COLORMAP_MAGMA},     {"plasma", cv::COLORMAP_PLASMA},
                                              {"hot", cv::COLORMAP_HOT},         {"bone", cv::COLORMAP_BONE}};
    return m;
}

cv::Mat colorized(int width, int height, const float* map, const std::string& name)
{
    const auto it = colormaps().find(name);
    if (it == colormaps().end())
        throw Error("colormap '" + name + "' is not known (jet, turbo, viridis, inferno, magma, plasma, hot, bone)");
    cv::Mat gray(height, width, CV_8UC1);
    for (int i = 0; i < width * height; ++i)
        gray.data[i] = static_cast<uint8_t>(std::clamp(map[i], 0.0F, 1.0F) * 255.0F + 0.5F);
    cv::Mat bgr;
    cv::applyColorMap(gray, bgr, it->second);
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return rgb;
}

}  // namespace

const std::vector<std::string>& colormapNames()
{
    static const std::vector<std::string> names{"jet", "turbo", "viridis", "inferno", "magma", "plasma", "hot", "bone"};
    return names;
}

std::vector<uint8_t> colorizeHeatmap(int width, int height, const float* map, const std::string& colormap)
{
    const cv::Mat rgb = colorized(width, height, map, colormap);
    return {rgb.data, rgb.data + static_cast<size_t>(width) * static_cast<size_t>(height) * 3};
}

std::vector<uint8_t> overlayHeatmap(const std::vector<uint8_t>& rgb, int width, int height, const float* map,
                                    const OverlayOptions& o)
{
    if (rgb.size() != static_cast<size_t>(width) * static_cast<size_t>(height) * 3)
        throw Error("overlay: the image is not width·height·3 bytes");
    if (!(o.alpha >= 0 && o.alpha <= 1)) throw Error("overlay: alpha must be in [0, 1]");
    const cv::Mat heat = colorized(width, height, map, o.colormap);
    std::vector<uint8_t> out(rgb.size());
    for (size_t p = 0; p < static_cast<size_t>(width) * static_cast<size_t>(height); ++p) {
        const bool shown = !o.threshold || map[p] > *o.threshold;
        const double a = shown ? o.alpha : 0.0;
        for (size_t c = 0; c < 3; ++c)
            out[p * 3 + c] =
                static_cast<uint8_t>(std::clamp((1 - a) * rgb[p * 3 + c] + a * heat.data[p * 3 + c] + 0.5, 0.0, 255.0));
    }
    return out;
}

void writeRgbPng(const std::vector<uint8_t>& rgb, int width, int height, const std::filesystem::path& path,
                 const std::string& parameters)
{
    if (rgb.size() != static_cast<size_t>(width) * static_cast<size_t>(height) * 3)
        throw Error(path.string() + ": image is not width·height·3 bytes");
    const cv::Mat image(height, width, CV_8UC3, const_cast<uint8_t*>(rgb.data()));
    cv::Mat bgr;
    cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR);
    std::vector<uint8_t> bytes;
    if (!cv::imencode(".png", bgr, bytes)) throw Error(path.string() + ": PNG encoding failed");
    const std::string png(bytes.begin(), bytes.end());
    writeFileAtomically(path, parameters.empty() ? png : addPngText(png, "parameters", parameters));
}

std::vector<uint8_t> readRgbImage(const std::filesystem::path& path, int& width, int& height)
{
    const cv::Mat bgr = cv::imread(path.string(), cv::IMREAD_COLOR);
    if (bgr.empty()) throw Error(path.string() + ": cannot be read as an image");
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    width = rgb.cols;
    height = rgb.rows;
    return {rgb.data, rgb.data + rgb.total() * 3};
}

}  // namespace spyglass::core
