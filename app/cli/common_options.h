#pragma once
// Options every model subcommand shares (--model, --device, --threads, --memory-limit) and small
// helpers.
#include "cli/arg_parser.h"

#include "spyglass/diffusion.h"
#include "spyglass/language_model.h"
#include "spyglass/names.h"

#include <functional>
#include <string>
#include <vector>

namespace spyglass::cli {

// --device (when `withDevice`), --threads and --memory-limit.
void addRuntimeOptions(ArgParser& parser, bool withDevice = true);
// --model and --tokenizer plus the runtime options.
void addModelOptions(ArgParser& parser);
// Applies --threads (default kDefaultThreadCount) and --memory-limit, and checks --device;
// returns the device ("cpu" without the option).
std::string applyRuntimeOptions(const ArgParser& parser);
// --model (a diffusers folder or a single-file checkpoint), --config, --vae, --prediction-type,
// --lora (repeatable), --lora-dir and the runtime options, for the image subcommands.
void addImageModelOptions(ArgParser& parser);
// DiffusionLoadOptions from those; `prompt`'s A1111 <lora:NAME:W> tags are taken out of it and
// loaded from --lora-dir (NAME.safetensors).
core::DiffusionLoadOptions imageLoadOptions(const ArgParser& parser, std::string* prompt = nullptr);
// LoadOptions from --tokenizer and the device.
core::LoadOptions loadOptions(const ArgParser& parser, const std::string& device);
// "1,2,3" → {1, 2, 3}; throws UsageError naming the option on bad input.
std::vector<int> parseIds(const std::string& text, const std::string& option);
// "512x384" → width, height; throws UsageError for anything else.
void parseSize(const std::string& text, int& width, int& height);
// The CLI flag of a core option field (core::OptionError::field()): "lensTopK" → "--top-k".
// Unknown fields come back as they are.
[[nodiscard]] std::string flagForField(const std::string& field);
// parseName of the one name table (core/names.h), or a UsageError naming the flag and the choices.
template <typename E>
E parseNamedOption(const std::string& text, const std::string& flag)
{
    if (auto value = core::parseName<E>(text)) return *value;
    throw UsageError(flag + ": unknown " + std::string(core::Names<E>::what) + " '" + text + "' (" +
                     core::nameChoices<E>() + ")");
}
// Writes one line "spyglass-cli: <stage> …" to stderr, at most ~10 per second unless forced.
// Under `serve` the lines go to `setProgressSink`'s function instead, and every call first asks
// `cancelled`: when it says yes, logProgress throws core::Cancelled (the subcommand's progress
// callbacks all log, so a remote cancel stops the run at its next progress step).
void logProgress(const std::string& line, bool force = false);
void setProgressSink(std::function<void(const std::string&)> sink, std::function<bool()> cancelled);

}  // namespace spyglass::cli
