#pragma once
// Measures a shape-scene image model (spyglass/shape_scenes.h) for its model card: how often the
// generated image shows the prompt's shape, colour, size, place and background (read back with
// OpenCV), and whether a word's DAAM heatmap lands on its object (the share of the word's heat
// inside the object as drawn, against the share of the image the object covers).
// Thread safety: uses the model exclusively while it runs.
#include "spyglass/diffusion.h"

#include <string>
#include <vector>

namespace spyglass::core {

struct ImageEvalOptions {
    int prompts = 60;
    int steps = 20;
    double guidance = 5.0;
    uint64_t seed = 1;
    bool heldOut = true;  // held-out (shape, colour, size, place) combinations; false: training ones
};

struct ImageEvalSample {
    std::string prompt;
    std::string readShape, readColor, readSize, readPosition;
    bool found = false;
};

struct ImageEvalResult {
    int prompts = 0;
    double found = 0, shape = 0, color = 0, size = 0, position = 0, background = 0, all = 0;  // fractions
    double shapeHeatInside = 0;  // mean share of the shape word's heat inside the object as drawn
    double colorHeatInside = 0;  // same for the colour word
    double objectArea = 0;       // mean share of the image the object covers
    std::vector<ImageEvalSample> samples;
};

ImageEvalResult evaluateImageModel(DiffusionModel& model, const ImageEvalOptions& options,
                                   const ProgressCallback& progress = {});

}  // namespace spyglass::core
