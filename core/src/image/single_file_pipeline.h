#pragma once
// Loads the parts of a Stable Diffusion pipeline from one LDM-layout .safetensors checkpoint (see
// image/ldm_checkpoint.h for the key map and what is inferred): the UNet, VAE (or `--vae F`) and
// CLIP text encoder(s) straight from the file's tensors (renamed views, no copy before the float32
// load), the tokenizer and scheduler from a companion folder or Spyglass's shipped CLIP tokenizer
// and SD 1.x's / SDXL's scheduler config.
#include "image/clip_text_encoder.h"
#include "image/clip_tokenizer.h"
#include "image/config_reader.h"
#include "image/unet_model.h"
#include "image/vae_decoder.h"
#include "spyglass/diffusion.h"

#include <filesystem>
#include <functional>
#include <memory>

namespace spyglass::core {

struct PipelineParts {
    std::unique_ptr<ClipTokenizer> tokenizer;
    std::unique_ptr<ClipTextEncoder> text;
    std::unique_ptr<ClipTokenizer> tokenizer2;  // SDXL
    std::unique_ptr<ClipTextEncoder> text2;     // SDXL
    bool forceZerosForEmptyPrompt = false;
    std::unique_ptr<UNetModel> unet;
    std::unique_ptr<VaeDecoder> vae;
    std::unique_ptr<ConfigReader> schedulerConfig;
};

// Throws Error naming the file and the key or the part that is missing.
// `adjust` changes a part's weights before it is built (LoRAs), by part: "unet", "text_encoder",
// "text_encoder_2".
[[nodiscard]] PipelineParts loadSingleFilePipeline(const std::filesystem::path& file,
                                                   const DiffusionLoadOptions& options, torch::Device device,
                                                   const std::function<StoreAdjust(const std::string&)>& adjust = {});

// A separate VAE file (LDM or diffusers keys); `companionConfig`, when it exists, gives the scaling
// factor.
[[nodiscard]] std::unique_ptr<VaeDecoder> loadVaeFile(const std::filesystem::path& file, torch::Device device,
                                                      const std::filesystem::path& companionConfig = {});

// Where Spyglass's own CLIP tokenizer files are (installed beside the binaries, or in the source
// tree); empty when neither exists.
[[nodiscard]] std::filesystem::path shippedClipTokenizer();

}  // namespace spyglass::core
