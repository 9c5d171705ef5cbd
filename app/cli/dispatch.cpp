// The subcommand table and the one place where exceptions become exit statuses and messages
// (shared by main and `serve`, which runs subcommands for a remote client).
#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "cli/common_options.h"

#include "spyglass/error.h"

#include <functional>
#include <new>

namespace spyglass::cli {

namespace {

int dispatch(const std::string& command, const std::vector<std::string>& args)
{
    if (command == "tokenize") return runTokenize(args);
    if (command == "info") return runInfo(args);
    if (command == "generate") return runGenerate(args);
    if (command == "trace") return runTrace(args);
    if (command == "analyze") return runAnalyze(args);
    if (command == "patch") return runPatch(args);
    if (command == "ab") return runAb(args);
    if (command == "steer-vector") return runSteerVector(args);
    if (command == "batch") return runBatch(args);
    if (command == "aggregate") return runAggregate(args);
    if (command == "dequantize") return runDequantize(args);
    if (command == "diffuse") return runDiffuse(args);
    if (command == "train-image") return runTrainImage(args);
    if (command == "compare-prompts") return runComparePrompts(args);
    if (command == "eval-image") return runEvalImage(args);
    if (command == "train") return runTrain(args);
    if (command == "eval") return runEval(args);
#ifdef SPYGLASS_HAVE_RENDER
    if (command == "render") return runRender(args);
#else
    if (command == "render") throw UsageError("'render' needs a build with the GUI (-DSPYGLASS_BUILD_GUI=ON)");
#endif
    if (command == "serve") return runServe(args);
    throw UsageError("unknown command '" + command + "'");
}

}  // namespace

int runCommand(const std::string& command, const std::vector<std::string>& args, std::string& error)
{
    return runGuarded([&] { return dispatch(command, args); }, error);
}

int runGuarded(const std::function<int()>& body, std::string& error)
{
    error.clear();
    try {
        return body();
    } catch (const UsageError& e) {
        error = std::string("error: ") + e.what();
        return 2;
    } catch (const core::OptionError& e) {
        // Core names the field; the CLI names its flag.
        error = "error: " + flagForField(e.field()) + ": " + e.reason();
        return 1;
    } catch (const core::Cancelled&) {
        error = "cancelled";
        return 130;
    } catch (const std::bad_alloc&) {
        error = "error: out of memory (a host allocation failed); ask for less or use --memory-limit to find the size";
        return 1;
    } catch (const std::exception& e) {
        // One line: libtorch's own errors append a backtrace after the first line.
        const std::string what = e.what();
        error = "error: " + what.substr(0, what.find('\n'));
        return 1;
    }
}

}  // namespace spyglass::cli
