// config.json per family (GPT-2, Llama/Mistral/Qwen2/GPT-NeoX) and diffusers configs read
// through ConfigReader: every accessor on arbitrary JSON.
#include "fuzz_support.h"
#include "image/config_reader.h"
#include "models/gpt2_config.h"
#include "models/rotary_config.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const auto json = nlohmann::json::parse(data, data + size, nullptr, false);
    if (json.is_discarded()) return 0;
    spyglass::fuzz::expectOnlyErrors([&] { (void)spyglass::core::Gpt2Config::fromJson(json, "config.json"); });
    for (const char* family : {"llama", "mistral", "qwen2", "gpt_neox"})
        spyglass::fuzz::expectOnlyErrors(
            [&] { (void)spyglass::core::RotaryConfig::fromJson(json, "config.json", family); });
    spyglass::fuzz::expectOnlyErrors([&] {
        const spyglass::core::ConfigReader c(json, "unet/config.json");
        (void)c.integers("block_out_channels", 0, {320});
        (void)c.integers("attention_head_dim", 4, {8});
        (void)c.number("scaling_factor", 0.18215);
        (void)c.boolean("use_linear_projection", false);
        (void)c.string("_class_name", "");
        if (c.has("down_block_types")) (void)c.strings("down_block_types");
        if (c.has("trained_betas")) (void)c.numbers("trained_betas");
    });
    return 0;
}
