#pragma once
// Builds variants of the gpt2-tiny-random fixture folder (renamed, converted, sharded, broken
// tensors) for loader tests.
#include "test_support.h"

#include "spyglass/language_model.h"
#include "spyglass/safetensors.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <optional>

namespace spyglass::test {

// The random-weight GPT-2 of tests/fixtures/gpt2-tiny-random and a prompt of commas and digits.
inline std::unique_ptr<core::LanguageModel> tinyGpt2()
{
    return core::LanguageModel::load(fixture("gpt2-tiny-random"));
}
inline const std::vector<int> kCommaPrompt{16, 11, 362, 11, 513, 11, 604, 11};

using TensorMap = std::map<std::string, core::HostTensor>;

inline TensorMap fixtureWeights()
{
    auto file = core::SafetensorsFile::open(fixture("gpt2-tiny-random/model.safetensors"));
    TensorMap out;
    for (const auto& view : file->tensors()) out[view.name] = file->readFloat(view.name);
    return out;
}

inline void writeWeights(const std::filesystem::path& path, const TensorMap& tensors,
                         core::DType dtype = core::DType::F32)
{
    core::SafetensorsWriter w;
    for (const auto& [name, t] : tensors) w.addFloat(name, t, dtype);
    w.write(path);
}

// Copies config.json (optionally edited) and, when `withTokenizer`, vocab.json + merges.txt.
inline void copyModelFiles(const std::filesystem::path& dir, bool withTokenizer = true,
                           const std::function<void(nlohmann::json&)>& editConfig = {})
{
    std::ifstream in(fixture("gpt2-tiny-random/config.json"));
    nlohmann::json config = nlohmann::json::parse(in);
    if (editConfig) editConfig(config);
    writeFile(dir / "config.json", config.dump(2));
    if (withTokenizer) {
        std::filesystem::copy_file(fixture("gpt2-tiny-random/vocab.json"), dir / "vocab.json");
        std::filesystem::copy_file(fixture("gpt2-tiny-random/merges.txt"), dir / "merges.txt");
    }
}

}  // namespace spyglass::test
