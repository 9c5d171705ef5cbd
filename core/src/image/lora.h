#pragma once
// Lora — a kohya-ss (sd-scripts) LoRA file: per adapted layer `<module>.lora_down.weight` [r, in(, k,
// k)], `<module>.lora_up.weight` [out, r(, 1, 1)] and optionally `<module>.alpha`, module names
// `lora_unet_*` (the UNet's diffusers module path with '.' → '_' as kohya writes for SD 1.x, or its
// original LDM path as kohya writes for SDXL: `lora_unet_input_blocks_4_1_…`, see ldm_unet_names.h),
// `lora_te_*` / `lora_te1_*` (the
// CLIP text encoder), `lora_te2_*` (SDXL's second text encoder). applyTo() merges it into a component's weights as
// diffusers 0.21.2 computes it:
//   W' = W + s · (alpha / rank) · up @ down    (alpha = rank when absent; bias unchanged)
// — in float64, cast to float32 — for Linear and (LoCon) convolution layers. Several LoRAs chain.
// Thread safety: immutable after open; the merged weights are computed when a model loads them.
#include "io/weight_store.h"

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace spyglass::core {

class Lora {
public:
    // Throws Error naming the file and the key (no up/down pair, ranks that disagree, LyCORIS
    // formats, names of no known part).
    static std::shared_ptr<const Lora> open(const std::filesystem::path& path, double strength);

    // Replaces the weights of `store` ("unet", "text_encoder" or "text_encoder_2" names) that this LoRA adapts by
    // computed ones; records the modules it used in `used`.
    void applyTo(WeightStore& store, const std::string& component, std::set<std::string>& used) const;
    // Throws Error naming the file and the first module `used` does not hold (a LoRA for another
    // base model).
    void checkAllUsed(const std::set<std::string>& used) const;

    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
    [[nodiscard]] double strength() const { return m_strength; }
    [[nodiscard]] size_t moduleCount() const { return m_modules.size(); }

private:
    struct Module {
        const TensorView* up = nullptr;
        const TensorView* down = nullptr;
        double alpha = 0;  // 0: absent (= rank)
    };
    std::filesystem::path m_path;
    double m_strength = 1;
    std::shared_ptr<const SafetensorsFile> m_file;
    std::map<std::string, Module> m_modules;  // kohya module name → tensors
};

}  // namespace spyglass::core
