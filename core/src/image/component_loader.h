#pragma once
// Loads one part of a diffusers pipeline folder (text_encoder/, unet/, vae/): its config.json and
// safetensors (changed by `adjust`, e.g. LoRAs merged), built by T::build(config, weights); errors
// carry the folder in front.
#include "image/config_reader.h"
#include "image/nn_layers.h"
#include "spyglass/error.h"

#include <filesystem>
#include <memory>

namespace spyglass::core {

template <typename T>
std::unique_ptr<T> loadComponent(const std::filesystem::path& dir, torch::Device device, const StoreAdjust& adjust = {})
{
    const ConfigReader config(dir / "config.json");
    WeightStore store = WeightStore::openFolder(dir);
    if (adjust) adjust(store);
    try {
        return T::build(config, Weights(store, device));
    } catch (const Error& error) {
        const std::string what = error.what();
        if (what.rfind(dir.string(), 0) == 0) throw;
        throw Error(dir.string() + ": " + what);
    }
}

}  // namespace spyglass::core
