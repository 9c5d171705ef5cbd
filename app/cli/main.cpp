// spyglass-cli — the headless face of Spyglass (docs/cli.md). stdout holds only the result;
// messages and progress go to stderr.
#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "cli/common_options.h"

#include "spyglass/error.h"
#include "spyglass/runtime.h"
#include "spyglass/version.h"

#include <iostream>
#include <map>
#include <new>

namespace {

const char* const kUsage =
    "usage: spyglass-cli <command> [options]   (spyglass-cli <command> --help for details)\n"
    "\n"
    "commands:\n"
    "  info       the model's family and parameters as JSON\n"
    "  tokenize   text → ids, tokens and byte offsets\n"
    "  generate   generate text (greedy unless --temperature > 0)\n"
    "  trace      run one forward pass and save every activation as safetensors\n"
    "  analyze    saliency, logit lens, activation factors and 2-D map as a report JSON\n"
    "  patch      activation patching (clean → corrupt) over layers × positions or heads\n"
    "  ab         compare two prompts: tokens aligned, saliency, lens and joint factors side by side\n"
    "  steer-vector  a steering vector from the mean activations of two prompt sets\n"
    "  batch      analyze (or diffuse, compare-prompts) every line of a JSONL file (--shard I/N for job arrays)\n"
    "  aggregate  merge a folder of reports into dataset-level tables\n"
    "  dequantize every tensor of a GGUF file as F32 safetensors\n"
    "  train      train a BPE tokenizer and a GPT-2 on the built-in corpus\n"
    "  eval       measure counting, addition, recall and prose perplexity\n"
    "  render     draw a view of a report as PNG, SVG or PDF (headless)\n"
    "  diffuse    Stable Diffusion image with per-word heatmaps (DAAM)\n"
    "  train-image      train the tiny shape-scene image model\n"
    "  compare-prompts  which chunks of an appended prompt change a region of the image\n"
    "  serve      run subcommands for a remote client over stdin/stdout (--stdio; docs/serve-protocol.md)\n"
    "  eval-image       measure a shape-scene image model (shape, colour, place, heatmaps)\n"
    "\n"
    "  --version  print the version\n"
    "  --help     print this help\n";

}  // namespace

int main(int argc, char** argv)
{
    spyglass::core::reexecWithTunedBlas(argc, argv);
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::cerr << kUsage;
        return 2;
    }
    const std::string command = args.front();
    args.erase(args.begin());
    if (command == "--version" || command == "version") {
        std::cout << "spyglass-cli " << spyglass::kVersion << '\n';
        return 0;
    }
    if (command == "--help" || command == "-h" || command == "help") {
        std::cout << kUsage;
        return 0;
    }
    std::string error;
    const int code = spyglass::cli::runCommand(command, args, error);
    if (!error.empty()) std::cerr << "spyglass-cli: " << error << '\n';
    if (error.rfind("error: unknown command", 0) == 0) std::cerr << kUsage;
    return code;
}
