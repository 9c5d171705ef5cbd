// Saves are atomic (#9): spyglass-cli killed (SIGKILL) half-way through writing a report leaves
// the previous report intact, and the next save replaces it and removes the killed writer's
// temporary file. SPYGLASS_TEST_PAUSE_MID_WRITE_MS makes the writer stop half-way.
#include "cli_support.h"

#include "spyglass/atomic_write.h"
#include "spyglass/error.h"

#include <nlohmann/json.hpp>

#include <unistd.h>
#include <chrono>
#include <csignal>
#include <thread>

using spyglass::test::cli;
using spyglass::test::CliRun;
using spyglass::test::fixture;
using spyglass::test::TempDir;

namespace {

std::string readAll(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// Starts spyglass-cli with `args` and the mid-write pause; returns its pid.
pid_t startPausingCli(const std::vector<std::string>& args)
{
    std::vector<std::string> argStrings{SPYGLASS_CLI_PATH};
    argStrings.insert(argStrings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argStrings) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> envStrings{"SPYGLASS_TEST_PAUSE_MID_WRITE_MS=60000", "SPYGLASS_NO_REEXEC=1"};
    for (char** e = environ; *e; ++e) envStrings.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : envStrings) envp.push_back(e.data());
    envp.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    return pid;
}

}  // namespace

TEST(AtomicSave, KillingTheCliMidSaveLeavesThePreviousReport)
{
    TempDir dir;
    const auto out = dir / "report.json";
    const std::vector<std::string> base{
        "analyze", "--model", fixture("gpt2-tiny-random").string(), "--prompt", "1, 2, 3, 4,", "--out", out.string()};
    auto with = [&](const std::string& tokens) {
        auto args = base;
        args.insert(args.end(), {"--max-new-tokens", tokens});
        return args;
    };
    const CliRun first = cli(with("1"));
    ASSERT_EQ(first.code, 0) << first.err;
    const std::string previous = readAll(out);

    const pid_t pid = startPausingCli(with("3"));
    ASSERT_GT(pid, 0);
    const auto tmp = std::filesystem::path(out.string() + ".tmp." + std::to_string(pid));
    auto written = [&] {
        std::error_code ec;
        const auto size = std::filesystem::file_size(tmp, ec);
        return ec ? uintmax_t{0} : size;
    };
    for (int i = 0; i < 1200 && written() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_GT(written(), 0u) << "the writer never reached the middle of its file";
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status));

    EXPECT_EQ(readAll(out), previous);  // untouched
    EXPECT_TRUE(std::filesystem::exists(tmp));
    EXPECT_FALSE(nlohmann::json::accept(readAll(tmp)));  // what the kill interrupted: half a report

    const CliRun again = cli(with("3"));
    ASSERT_EQ(again.code, 0) << again.err;
    const auto report = nlohmann::json::parse(readAll(out));
    EXPECT_EQ(report["tokens"].size(), 8u + 3u);
    EXPECT_FALSE(std::filesystem::exists(tmp)) << "the killed writer's temporary file was left";
}

TEST(AtomicSave, AFailedWriteKeepsThePreviousFile)
{
    TempDir dir;
    const auto path = dir / "file.txt";
    spyglass::core::writeFileAtomically(path, "previous");
    std::filesystem::create_directory(dir / "sub");
    EXPECT_THROW(spyglass::core::writeFileAtomically(dir / "sub", "x"),
                 spyglass::core::Error);  // a folder is in the way
    EXPECT_THROW(spyglass::core::writeFileAtomically(dir / "missing" / "file.txt", "x"), spyglass::core::Error);
    EXPECT_EQ(readAll(path), "previous");
    spyglass::core::writeFileAtomically(path, "next");
    EXPECT_EQ(readAll(path), "next");
}

TEST(AtomicSave, WritesThroughLinksAndIntoDevices)
{
    TempDir dir;
    spyglass::core::writeFileAtomically(dir / "real.txt", "one");
    std::filesystem::create_symlink(dir / "real.txt", dir / "link.txt");
    spyglass::core::writeFileAtomically(dir / "link.txt", "two");
    EXPECT_TRUE(std::filesystem::is_symlink(dir / "link.txt"));  // still a link
    EXPECT_EQ(readAll(dir / "real.txt"), "two");
    spyglass::core::writeFileAtomically("/dev/null", "discarded");  // `--out /dev/null` is not renamed over
    EXPECT_TRUE(std::filesystem::is_character_file("/dev/null"));
}
