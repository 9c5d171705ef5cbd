#pragma once
// Runs spyglass-cli (SPYGLASS_CLI_PATH) in a shell and collects its exit code, stdout and stderr.
#include "test_support.h"

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace spyglass::test {

struct CliRun {
    int code = -1;
    std::string out;
    std::string err;
};

inline std::string quote(const std::string& s)
{
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

inline CliRun cli(const std::vector<std::string>& args)
{
    TempDir dir;
    std::string command = quote(SPYGLASS_CLI_PATH);
    for (const auto& a : args) command += " " + quote(a);
    command += " 2>" + quote((dir / "err").string());
    CliRun run;
    FILE* pipe = ::popen(command.c_str(), "r");
    std::array<char, 4096> buffer{};
    size_t n;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) run.out.append(buffer.data(), n);
    const int status = ::pclose(pipe);
    run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream err(dir / "err");
    run.err.assign(std::istreambuf_iterator<char>(err), {});
    return run;
}

}  // namespace spyglass::test
