#include "spyglass/shape_scenes.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <map>

namespace spyglass::core {

namespace {

const std::map<std::string, cv::Vec3b>& palette()
{
    static const std::map<std::string, cv::Vec3b> p{{"red", {220, 40, 40}},     {"green", {40, 190, 60}},
                                                    {"blue", {50, 80, 230}},    {"yellow", {235, 215, 40}},
                                                    {"purple", {150, 60, 200}}, {"orange", {245, 140, 30}}};
    return p;
}

const cv::Vec3b kDark{35, 35, 40};
const cv::Vec3b kWhite{240, 240, 240};

// Centre of a named place, in units of the image size.
cv::Point2d centre(const std::string& position)
{
    if (position == "top left") return {0.27, 0.27};
    if (position == "top right") return {0.73, 0.27};
    if (position == "bottom left") return {0.27, 0.73};
    if (position == "bottom right") return {0.73, 0.73};
    return {0.5, 0.5};
}

double radius(const std::string& size)
{
    return size == "big" ? 0.23 : 0.14;
}

template <typename T>
const T& pick(const std::vector<T>& v, std::mt19937_64& rng)
{
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

}  // namespace

const std::vector<std::string>& sceneShapes()
{
    static const std::vector<std::string> v{"circle", "square", "triangle"};
    return v;
}
const std::vector<std::string>& sceneColors()
{
    static const std::vector<std::string> v{"red", "green", "blue", "yellow", "purple", "orange"};
    return v;
}
const std::vector<std::string>& sceneSizes()
{
    static const std::vector<std::string> v{"small", "big"};
    return v;
}
const std::vector<std::string>& scenePositions()
{
    static const std::vector<std::string> v{"top left", "top right", "bottom left", "bottom right", "center"};
    return v;
}
const std::vector<std::string>& sceneMagicChunks()
{
    static const std::vector<std::string> v{"masterpiece",     "best quality", "8k",
                                            "highly detailed", "sharp focus",  "trending on artstation"};
    return v;
}

std::string scenePrompt(const SceneSpec& s)
{
    std::string p = "a " + s.size + " " + s.color + (s.striped ? " striped " : " ") + s.shape +
                    (s.position == "center" ? " in the center" : " at the " + s.position);
    if (s.whiteBackground) p += ", on a white background";
    for (const auto& m : s.magic) p += ", " + m;
    return p;
}

bool isHeldOut(const SceneSpec& s)
{
    const std::string key = s.shape + "|" + s.color + "|" + s.size + "|" + s.position;
    return std::hash<std::string>{}(key) % 8 == 0;
}

Scene drawScene(const SceneSpec& spec, int size, std::mt19937_64* jitter)
{
    constexpr int kSuper = 4;  // draw at 4x, then area-average: anti-aliased edges
    const int big = size * kSuper;
    const cv::Vec3b background = spec.whiteBackground ? kWhite : kDark;
    cv::Mat canvas(big, big, CV_8UC3, cv::Scalar(background[0], background[1], background[2]));
    cv::Mat mask(big, big, CV_8UC1, cv::Scalar(0));
    cv::Point2d c = centre(spec.position);
    double r = radius(spec.size);
    if (jitter) {
        std::uniform_real_distribution<double> move(-1.5 / 32, 1.5 / 32), grow(-0.5 / 32, 0.5 / 32);
        c.x += move(*jitter);
        c.y += move(*jitter);
        r += grow(*jitter);
    }
    const double cx = c.x * big, cy = c.y * big, rr = r * big;
    const cv::Vec3b colour = palette().at(spec.color);
    const cv::Scalar fill(colour[0], colour[1], colour[2]);
    auto draw = [&](cv::Mat& target, const cv::Scalar& value) {
        if (spec.shape == "circle") {
            cv::circle(target, cv::Point(static_cast<int>(cx), static_cast<int>(cy)), static_cast<int>(rr), value,
                       cv::FILLED, cv::LINE_AA);
        } else if (spec.shape == "square") {
            const double half = rr * 0.9;
            cv::rectangle(target, cv::Point(static_cast<int>(cx - half), static_cast<int>(cy - half)),
                          cv::Point(static_cast<int>(cx + half), static_cast<int>(cy + half)), value, cv::FILLED,
                          cv::LINE_AA);
        } else {
            const std::vector<cv::Point> points{{static_cast<int>(cx), static_cast<int>(cy - rr)},
                                                {static_cast<int>(cx - rr * 1.05), static_cast<int>(cy + rr * 0.85)},
                                                {static_cast<int>(cx + rr * 1.05), static_cast<int>(cy + rr * 0.85)}};
            cv::fillPoly(target, std::vector<std::vector<cv::Point>>{points}, value, cv::LINE_AA);
        }
    };
    draw(canvas, fill);
    draw(mask, cv::Scalar(255));
    if (spec.striped) {
        // Dark horizontal stripes inside the object.
        const cv::Scalar dark(colour[0] * 0.3, colour[1] * 0.3, colour[2] * 0.3);
        for (int y = 0; y < big; ++y)
            if ((y / kSuper) % 3 == 1)
                for (int x = 0; x < big; ++x)
                    if (mask.at<uint8_t>(y, x) > 127)
                        canvas.at<cv::Vec3b>(y, x) =
                            cv::Vec3b(static_cast<uint8_t>(dark[0]), static_cast<uint8_t>(dark[1]),
                                      static_cast<uint8_t>(dark[2]));
    }
    cv::Mat small, smallMask;
    cv::resize(canvas, small, cv::Size(size, size), 0, 0, cv::INTER_AREA);
    cv::resize(mask, smallMask, cv::Size(size, size), 0, 0, cv::INTER_AREA);
    Scene s;
    s.spec = spec;
    s.prompt = scenePrompt(spec);
    s.size = size;
    s.rgb.assign(small.data, small.data + small.total() * 3);
    s.mask.resize(static_cast<size_t>(size) * static_cast<size_t>(size));
    for (size_t i = 0; i < s.mask.size(); ++i) s.mask[i] = smallMask.data[i] > 127 ? 1 : 0;
    return s;
}

SceneSpec SceneGenerator::randomSpec(bool heldOut)
{
    for (;;) {
        SceneSpec s;
        s.shape = pick(sceneShapes(), m_rng);
        s.color = pick(sceneColors(), m_rng);
        s.size = pick(sceneSizes(), m_rng);
        s.position = pick(scenePositions(), m_rng);
        if (isHeldOut(s) != heldOut) continue;
        std::uniform_real_distribution<double> u(0, 1);
        s.striped = u(m_rng) < 0.3;
        s.whiteBackground = u(m_rng) < 0.3;
        std::vector<std::string> magic = sceneMagicChunks();
        std::shuffle(magic.begin(), magic.end(), m_rng);
        const auto count = std::uniform_int_distribution<size_t>(0, 3)(m_rng);
        s.magic.assign(magic.begin(), magic.begin() + static_cast<std::ptrdiff_t>(count));
        return s;
    }
}

Scene SceneGenerator::next()
{
    return drawScene(randomSpec(false), m_size, &m_rng);
}

SceneReading readScene(const std::vector<uint8_t>& rgb, int size)
{
    SceneReading r;
    if (rgb.size() != static_cast<size_t>(size) * static_cast<size_t>(size) * 3) return r;
    const cv::Mat image(size, size, CV_8UC3, const_cast<uint8_t*>(rgb.data()));
    // Background: the median border colour.
    std::array<std::vector<int>, 3> border;
    for (int i = 0; i < size; ++i)
        for (const cv::Point& p : {cv::Point(i, 0), cv::Point(i, size - 1), cv::Point(0, i), cv::Point(size - 1, i)})
            for (int c = 0; c < 3; ++c) border[static_cast<size_t>(c)].push_back(image.at<cv::Vec3b>(p)[c]);
    cv::Vec3d bg;
    for (int c = 0; c < 3; ++c) {
        auto& v = border[static_cast<size_t>(c)];
        std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
        bg[c] = v[v.size() / 2];
    }
    r.whiteBackground = (bg[0] + bg[1] + bg[2]) / 3 > 140;
    cv::Mat differs(size, size, CV_8UC1);
    for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) {
            const cv::Vec3b px = image.at<cv::Vec3b>(y, x);
            const double d =
                std::sqrt(std::pow(px[0] - bg[0], 2) + std::pow(px[1] - bg[1], 2) + std::pow(px[2] - bg[2], 2));
            differs.at<uint8_t>(y, x) = d > 60 ? 255 : 0;
        }
    // Close the stripes, then take the largest component.
    cv::morphologyEx(differs, differs, cv::MORPH_CLOSE, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(1, 3)));
    cv::Mat labels, stats, centroids;
    const int n = cv::connectedComponentsWithStats(differs, labels, stats, centroids, 8);
    int best = 0, bestArea = 0;
    for (int i = 1; i < n; ++i)
        if (stats.at<int>(i, cv::CC_STAT_AREA) > bestArea) {
            bestArea = stats.at<int>(i, cv::CC_STAT_AREA);
            best = i;
        }
    if (best == 0 || bestArea < 6) return r;
    r.found = true;
    r.mask.resize(static_cast<size_t>(size) * static_cast<size_t>(size));
    cv::Vec3d sum;
    int counted = 0;
    std::vector<std::pair<double, cv::Vec3b>> pixels;
    for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x)
            if (labels.at<int>(y, x) == best) {
                r.mask[static_cast<size_t>(y * size + x)] = 1;
                const cv::Vec3b px = image.at<cv::Vec3b>(y, x);
                pixels.emplace_back(static_cast<double>(px[0]) + px[1] + px[2], px);
            }
    // Colour from the brighter half (stripes are dark).
    std::sort(pixels.begin(), pixels.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t i = 0; i < std::max<size_t>(1, pixels.size() / 2); ++i) {
        for (int c = 0; c < 3; ++c) sum[c] += pixels[i].second[c];
        ++counted;
    }
    double bestDistance = 1e18;
    for (const auto& [name, colour] : palette()) {
        double d = 0;
        for (int c = 0; c < 3; ++c) d += std::pow(sum[c] / counted - colour[c], 2);
        if (d < bestDistance) {
            bestDistance = d;
            r.color = name;
        }
    }
    const cv::Point2d centroid(centroids.at<double>(best, 0) / size, centroids.at<double>(best, 1) / size);
    double nearest = 1e18;
    for (const auto& p : scenePositions()) {
        const cv::Point2d c = centre(p);
        const double d = std::hypot(c.x - centroid.x, c.y - centroid.y);
        if (d < nearest) {
            nearest = d;
            r.position = p;
        }
    }
    const double w = stats.at<int>(best, cv::CC_STAT_WIDTH), h = stats.at<int>(best, cv::CC_STAT_HEIGHT);
    const double fill = bestArea / (w * h);
    r.shape = fill > 0.88 ? "square" : fill > 0.64 ? "circle" : "triangle";
    const double side = std::sqrt(w * h) / size;  // relative extent
    r.size = side > 0.37 ? "big" : "small";
    return r;
}

}  // namespace spyglass::core
