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
    "  batch      analyze every line of a JSONL file (one report each; --shard I/N for job arrays)\n"
    "  aggregate  merge a folder of reports into dataset-level tables\n"
    "  dequantize every tensor of a GGUF file as F32 safetensors\n"
    "  train      train a BPE tokenizer and a GPT-2 on the built-in corpus\n"
    "  eval       measure counting, addition, recall and prose perplexity\n"
    "  render     draw a view of a report as PNG, SVG or PDF (headless)\n"
    "  diffuse    Stable Diffusion image with per-word heatmaps (DAAM)\n"
    "  train-image      train the tiny shape-scene image model\n"
    "  compare-prompts  which chunks of an appended prompt change a region of the image\n"
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
    try {
        if (command == "--version" || command == "version") {
            std::cout << "spyglass-cli " << spyglass::kVersion << '\n';
            return 0;
        }
        if (command == "--help" || command == "-h" || command == "help") {
            std::cout << kUsage;
            return 0;
        }
        if (command == "tokenize") return spyglass::cli::runTokenize(args);
        if (command == "info") return spyglass::cli::runInfo(args);
        if (command == "generate") return spyglass::cli::runGenerate(args);
        if (command == "trace") return spyglass::cli::runTrace(args);
        if (command == "analyze") return spyglass::cli::runAnalyze(args);
        if (command == "patch") return spyglass::cli::runPatch(args);
        if (command == "ab") return spyglass::cli::runAb(args);
        if (command == "steer-vector") return spyglass::cli::runSteerVector(args);
        if (command == "batch") return spyglass::cli::runBatch(args);
        if (command == "aggregate") return spyglass::cli::runAggregate(args);
        if (command == "dequantize") return spyglass::cli::runDequantize(args);
        if (command == "diffuse") return spyglass::cli::runDiffuse(args);
        if (command == "train-image") return spyglass::cli::runTrainImage(args);
        if (command == "compare-prompts") return spyglass::cli::runComparePrompts(args);
        if (command == "eval-image") return spyglass::cli::runEvalImage(args);
        if (command == "train") return spyglass::cli::runTrain(args);
        if (command == "eval") return spyglass::cli::runEval(args);
#ifdef SPYGLASS_HAVE_RENDER
        if (command == "render") return spyglass::cli::runRender(args);
#else
        if (command == "render") {
            std::cerr << "spyglass-cli: error: 'render' needs a build with the GUI (-DSPYGLASS_BUILD_GUI=ON)\n";
            return 2;
        }
#endif
        std::cerr << "spyglass-cli: error: unknown command '" << command << "'\n" << kUsage;
        return 2;
    } catch (const spyglass::cli::UsageError& e) {
        std::cerr << "spyglass-cli: error: " << e.what() << '\n';
        return 2;
    } catch (const spyglass::core::OptionError& e) {
        // Core names the field; the CLI names its flag.
        std::cerr << "spyglass-cli: error: " << spyglass::cli::flagForField(e.field()) << ": " << e.reason() << '\n';
        return 1;
    } catch (const spyglass::core::Cancelled&) {
        std::cerr << "spyglass-cli: cancelled\n";
        return 130;
    } catch (const std::bad_alloc&) {
        std::cerr << "spyglass-cli: error: out of memory (a host allocation failed); ask for less or use "
                     "--memory-limit to find the size\n";
        return 1;
    } catch (const std::exception& e) {
        // One line: libtorch's own errors append a backtrace after the first line.
        const std::string what = e.what();
        std::cerr << "spyglass-cli: error: " << what.substr(0, what.find('\n')) << '\n';
        return 1;
    }
}
