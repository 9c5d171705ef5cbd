#pragma once
// The spyglass-cli subcommands (docs/cli.md). Each returns the process exit code and throws
// UsageError or core::Error on failure (main() turns them into one-line messages).
#include <functional>
#include <string>
#include <vector>

namespace spyglass::cli {

int runInfo(const std::vector<std::string>& args);
int runTokenize(const std::vector<std::string>& args);
int runGenerate(const std::vector<std::string>& args);
int runTrace(const std::vector<std::string>& args);
int runAnalyze(const std::vector<std::string>& args);
int runPatch(const std::vector<std::string>& args);
int runAb(const std::vector<std::string>& args);
int runSteerVector(const std::vector<std::string>& args);
int runBatch(const std::vector<std::string>& args);
int runAggregate(const std::vector<std::string>& args);
int runTrain(const std::vector<std::string>& args);
int runEval(const std::vector<std::string>& args);
int runDequantize(const std::vector<std::string>& args);
int runTrainImage(const std::vector<std::string>& args);
int runComparePrompts(const std::vector<std::string>& args);
int runEvalImage(const std::vector<std::string>& args);
int runDiffuse(const std::vector<std::string>& args);
int runRender(const std::vector<std::string>& args);  // only with SPYGLASS_HAVE_RENDER
int runServe(const std::vector<std::string>& args);

// Runs subcommand `command`; exceptions become the exit status (2 usage, 1 failure, 130 cancelled)
// and a one-line message in `error` ("error: …" or "cancelled"; empty on success).
int runCommand(const std::string& command, const std::vector<std::string>& args, std::string& error);
// The same mapping of exceptions to exit statuses and messages around any body (serve's typed methods).
int runGuarded(const std::function<int()>& body, std::string& error);

}  // namespace spyglass::cli
