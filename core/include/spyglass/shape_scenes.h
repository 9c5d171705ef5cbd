#pragma once
// Synthetic shape scenes for the tiny image model: a coloured circle, square or triangle, small
// or big, in one of five named places, optionally striped, on a dark or white background, with a
// prompt that says so (plus optional "magic" chunks that carry no information), and the OpenCV
// checks that read a generated image back (shape, colour, place) for the model card.
//
//   SceneGenerator g(1);
//   Scene s = g.next();        // s.prompt = "a big red striped circle at the top left, 8k"
//   SceneReading r = readScene(s.rgb, s.size);
//
// Thread safety: a SceneGenerator per thread; the functions are pure.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace spyglass::core {

struct SceneSpec {
    std::string shape;     // circle | square | triangle
    std::string color;     // red | green | blue | yellow | purple | orange
    std::string size;      // small | big
    std::string position;  // top left | top right | bottom left | bottom right | center
    bool striped = false;
    bool whiteBackground = false;
    std::vector<std::string> magic;  // appended chunks with no effect on the picture
};

struct Scene {
    SceneSpec spec;
    std::string prompt;
    int size = 32;
    std::vector<uint8_t> rgb;   // size·size·3
    std::vector<uint8_t> mask;  // size·size, 1 inside the object
};

[[nodiscard]] const std::vector<std::string>& sceneShapes();
[[nodiscard]] const std::vector<std::string>& sceneColors();
[[nodiscard]] const std::vector<std::string>& sceneSizes();
[[nodiscard]] const std::vector<std::string>& scenePositions();
[[nodiscard]] const std::vector<std::string>& sceneMagicChunks();

// "a big red striped circle at the top left[, on a white background][, magic…]".
[[nodiscard]] std::string scenePrompt(const SceneSpec& spec);
// Draws the scene (anti-aliased, `jitter` moves the centre and radius by up to ±1.5 px / ±0.5 px).
[[nodiscard]] Scene drawScene(const SceneSpec& spec, int size, std::mt19937_64* jitter = nullptr);
// Held out of training: about one in eight (shape, colour, size, position) combinations.
[[nodiscard]] bool isHeldOut(const SceneSpec& spec);

class SceneGenerator {
public:
    explicit SceneGenerator(uint64_t seed, int size = 32) : m_rng(seed), m_size(size) {}
    // A random training scene (never a held-out combination).
    [[nodiscard]] Scene next();
    [[nodiscard]] SceneSpec randomSpec(bool heldOut);

private:
    std::mt19937_64 m_rng;
    int m_size;
};

// What an image shows, read with OpenCV: the object is the largest region that differs from the
// border colour; its colour is the nearest palette colour, its place the nearest named centre, its
// shape from how much of its bounding box it fills (square ≈ 1, circle ≈ 0.79, triangle ≈ 0.5).
struct SceneReading {
    bool found = false;
    std::string shape, color, size, position;
    bool whiteBackground = false;
    std::vector<uint8_t> mask;  // size·size
};
[[nodiscard]] SceneReading readScene(const std::vector<uint8_t>& rgb, int size);

}  // namespace spyglass::core
