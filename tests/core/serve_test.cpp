// `spyglass-cli serve --stdio` (#19 item 3) with the server started as a local subprocess (no SSH):
// the frame codec (split input, binary payloads, malformed lines dropped without losing the
// stream), a remote analyze whose report equals a local one, progress, an unknown command, a
// malformed frame the server survives, cancelling a queued and a running request, shutdown; the
// typed "analyze" and "diffuse" methods (options as JSON, the model kept loaded, previews, every
// heat map in the answer).
#include "cli_support.h"
#include "test_support.h"

#include "spyglass/analysis.h"
#include "spyglass/analysis_options_json.h"
#include "spyglass/diffusion.h"
#include "spyglass/diffusion_remote.h"
#include "spyglass/error.h"
#include "spyglass/language_model.h"
#include "spyglass/report_json.h"
#include "spyglass/runtime.h"
#include "spyglass/serve_frames.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>

using namespace spyglass::core;
using spyglass::test::cli;
using spyglass::test::fixture;
using spyglass::test::TempDir;

TEST(ServeFrames, SplitInputPayloadsAndMalformedLines)
{
    const std::string a = encodeFrame({{"type", "result"}, {"id", 1}}, {{"a.txt", "hello\nworld"}, {"b.bin", ""}});
    const std::string b = encodeFrame({{"type", "ping"}});
    const std::string stream = "not json\n[1, 2]\n" + a + "{\"binary\": [{\"name\": 3}]}\n" + b;
    FrameReader reader;
    std::vector<Frame> frames;
    std::vector<std::string> errors;
    for (char c : stream) {  // one byte at a time: every split point
        reader.feed(&c, 1);
        for (;;) {
            try {
                auto f = reader.next();
                if (!f) break;
                frames.push_back(std::move(*f));
            } catch (const Error& e) {
                errors.push_back(e.what());
            }
        }
    }
    ASSERT_EQ(frames.size(), 2U);
    EXPECT_EQ(frames[0].header["id"], 1);
    ASSERT_EQ(frames[0].payloads.size(), 2U);
    EXPECT_EQ(frames[0].payloads[0], (std::pair<std::string, std::string>{"a.txt", "hello\nworld"}));
    EXPECT_EQ(frames[0].payloads[1].second, "");
    EXPECT_EQ(frames[1].header["type"], "ping");
    ASSERT_EQ(errors.size(), 3U);
    EXPECT_NE(errors[0].find("not JSON"), std::string::npos);
    EXPECT_NE(errors[1].find("not a JSON object"), std::string::npos);
    EXPECT_NE(errors[2].find("\"binary\" entries"), std::string::npos);
    EXPECT_EQ(reader.pending(), 0U);

    FrameReader small(64, 1000);
    const std::string longLine(100, 'x');
    small.feed(longLine.data(), longLine.size());
    EXPECT_THROW((void)small.next(), Error);  // no newline within the limit
    const std::string big = "{\"binary\": [{\"name\": \"x\", \"bytes\": 5000}]}\n";
    small.feed(big.data(), big.size());
    EXPECT_THROW((void)small.next(), Error);  // announces more than the limit
    small.feed(b.data(), b.size());
    EXPECT_EQ(small.next()->header["type"], "ping");
}

namespace {

// spyglass-cli serve --stdio with pipes both ways.
class Server {
public:
    Server()
    {
        int in[2], out[2];
        EXPECT_EQ(::pipe(in), 0);
        EXPECT_EQ(::pipe(out), 0);
        m_pid = ::fork();
        if (m_pid == 0) {
            ::dup2(in[0], STDIN_FILENO);
            ::dup2(out[1], STDOUT_FILENO);
            const int null = ::open("/dev/null", O_WRONLY);
            ::dup2(null, STDERR_FILENO);
            ::close(in[1]);
            ::close(out[0]);
            ::execl(SPYGLASS_CLI_PATH, SPYGLASS_CLI_PATH, "serve", "--stdio", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        m_in = in[1];
        m_out = out[0];
    }
    ~Server()
    {
        closeInput();
        if (m_pid > 0) ::waitpid(m_pid, nullptr, 0);
        ::close(m_out);
    }
    void send(const std::string& bytes) const
    {
        EXPECT_EQ(::write(m_in, bytes.data(), bytes.size()), ssize_t(bytes.size()));
    }
    void request(int id, const std::string& method, const nlohmann::json& params) const
    {
        send(encodeFrame({{"type", "request"}, {"id", id}, {"method", method}, {"params", params}}));
    }
    // The next frame, or nullopt after `seconds` or at the end of the stream.
    std::optional<Frame> next(double seconds = 120)
    {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        for (;;) {
            if (auto f = m_reader.next()) return f;
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd p{m_out, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
            char buffer[65536];
            const ssize_t n = ::read(m_out, buffer, sizeof buffer);
            if (n <= 0) return std::nullopt;
            m_reader.feed(buffer, static_cast<size_t>(n));
        }
    }
    // Frames until the result or error of `id` (progress frames counted).
    Frame until(const nlohmann::json& id, int* progress = nullptr)
    {
        for (;;) {
            auto f = next();
            if (!f) {
                ADD_FAILURE() << "no answer to request " << id;
                return {};
            }
            if (f->header["type"] == "progress" && progress) ++*progress;
            if ((f->header["type"] == "result" || f->header["type"] == "error") && f->header["id"] == id) return *f;
        }
    }
    void closeInput()
    {
        if (m_in >= 0) ::close(m_in);
        m_in = -1;
    }
    int wait()
    {
        int status = 0;
        ::waitpid(m_pid, &status, 0);
        m_pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

private:
    pid_t m_pid = -1;
    int m_in = -1, m_out = -1;
    FrameReader m_reader;
};

}  // namespace

TEST(ServeCli, RemoteRunsEqualLocalOnesAndCancelAndErrorsAreAnswered)
{
    Server server;
    const auto hello = server.next(60);
    ASSERT_TRUE(hello.has_value());
    EXPECT_EQ(hello->header["type"], "hello");
    EXPECT_EQ(hello->header["protocol"], "spyglass.serve");
    EXPECT_EQ(hello->header["version"], 1);

    // A malformed line is answered and the stream goes on.
    server.send("{oops\n");
    const auto bad = server.next(30);
    ASSERT_TRUE(bad.has_value());
    EXPECT_EQ(bad->header["type"], "error");
    EXPECT_EQ(bad->header["kind"], "protocol");

    // analyze remotely: the report comes back as a payload and equals a local run's.
    const std::string model = fixture("gpt2-tiny-random").string();
    const std::vector<std::string> args{"--model", model, "--prompt", "1, 2, 3,", "--max-new-tokens", "3"};
    std::vector<std::string> remoteArgs = args;
    remoteArgs.insert(remoteArgs.end(), {"--out", "{out}/report.json"});
    server.request(1, "run", {{"command", "analyze"}, {"args", remoteArgs}});
    int progress = 0;
    const Frame result = server.until(1, &progress);
    EXPECT_EQ(result.header["exit"], 0) << result.header.dump();
    EXPECT_GT(progress, 0);
    ASSERT_EQ(result.payloads.size(), 1U);
    EXPECT_EQ(result.payloads[0].first, "report.json");
    TempDir dir;
    std::ofstream(dir / "remote.json", std::ios::binary) << result.payloads[0].second;
    std::vector<std::string> localArgs{"analyze"};
    localArgs.insert(localArgs.end(), args.begin(), args.end());
    localArgs.insert(localArgs.end(), {"--out", (dir / "local.json").string()});
    ASSERT_EQ(cli(localArgs).code, 0);
    const Report remote = readReport(dir / "remote.json"), local = readReport(dir / "local.json");
    ASSERT_EQ(remote.tokens.size(), local.tokens.size());
    for (size_t i = 0; i < local.tokens.size(); ++i) EXPECT_EQ(remote.tokens[i].text, local.tokens[i].text) << i;
    ASSERT_FALSE(local.saliency.empty());
    EXPECT_EQ(remote.saliency[0].rows[0].scores, local.saliency[0].rows[0].scores);

    // Errors come back as the CLI says them.
    server.request(2, "run", {{"command", "analyze"}, {"args", {"--model", model}}});
    const Frame usage = server.until(2);
    EXPECT_EQ(usage.header["exit"], 2);
    EXPECT_NE(usage.header["error"].get<std::string>().find("--prompt"), std::string::npos) << usage.header.dump();
    server.request(3, "run", {{"command", "train"}, {"args", nlohmann::json::array()}});
    EXPECT_NE(server.until(3).header["error"].get<std::string>().find("cannot be run through serve"),
              std::string::npos);

    // A long image run, a queued one behind it: cancel the queued one, then the running one.
    const std::vector<std::string> slow{"--model",  fixture("sd-tiny-random").string(),
                                        "--prompt", "a photo of a hand",
                                        "--steps",  "500",
                                        "--out",    "{out}/image.png"};
    server.request(4, "run", {{"command", "diffuse"}, {"args", slow}});
    server.request(5, "run", {{"command", "diffuse"}, {"args", slow}});
    for (;;) {  // wait until 4 reports progress: it is running
        const auto f = server.next();
        ASSERT_TRUE(f.has_value());
        if (f->header["type"] == "progress" && f->header["id"] == 4) break;
    }
    server.request(6, "cancel", {{"target", 5}});
    const Frame queued = server.until(5);
    EXPECT_EQ(queued.header["type"], "error");
    EXPECT_EQ(queued.header["kind"], "cancelled");
    server.request(7, "cancel", {{"target", 4}});
    const Frame running = server.until(4);
    EXPECT_EQ(running.header["exit"], 130);
    EXPECT_EQ(running.header["kind"], "cancelled");

    server.request(8, "shutdown", nlohmann::json::object());
    server.closeInput();
    EXPECT_EQ(server.wait(), 0);
}

// The typed "analyze" method the app's Remote device uses: options as JSON, the model kept loaded
// between requests, the report equal to the engine's own in this process, bad options named.
TEST(ServeCli, TypedAnalyzeKeepsTheModelAndEqualsTheEngine)
{
    Server server;
    ASSERT_TRUE(server.next(60).has_value());  // hello
    const std::string model = fixture("gpt2-tiny-random").string();
    AnalysisOptions options;
    options.maxNewTokens = 3;
    options.saliencyMethods = {SaliencyMethod::GradXInput, SaliencyMethod::Gradient};
    options.lensTopK = 4;
    options.factorCount = 2;
    options.seed = 7;
    setThreadCount(1);  // the server's threads below: the same sums in the same order
    const nlohmann::json params{{"model", model},
                                {"prompt", "1, 2, 3,"},
                                {"device", "cpu"},
                                {"threads", 1},
                                {"options", nlohmann::json::parse(analysisOptionsToJson(options))}};
    const auto progressStages = [&](int id) {
        std::vector<std::string> stages;
        for (;;) {
            auto f = server.next();
            if (!f) {
                ADD_FAILURE() << "no answer to " << id;
                return std::pair{stages, Frame{}};
            }
            if (f->header["type"] == "progress") stages.push_back(f->header.value("stage", ""));
            if (f->header["type"] != "progress" && f->header["id"] == id) return std::pair{stages, *f};
        }
    };
    server.request(1, "analyze", params);
    const auto [first, result] = progressStages(1);
    ASSERT_EQ(result.header["exit"], 0) << result.header.dump();
    EXPECT_NE(std::find(first.begin(), first.end(), "loading model"), first.end());
    ASSERT_EQ(result.payloads.size(), 2U);  // the report, and its factors' loadings as float32
    const Report remote = reportFromJson(result.payloads[0].second, "remote");
    EXPECT_EQ(result.payloads[1].first, "loadings");
    const std::vector<int64_t> loadingsShape = result.header["loadings_shape"];

    auto lm = LanguageModel::load(model, {});
    const Report local = analyze(*lm, "1, 2, 3,", options);
    ASSERT_EQ(remote.tokens.size(), local.tokens.size());
    for (size_t i = 0; i < local.tokens.size(); ++i) EXPECT_EQ(remote.tokens[i].id, local.tokens[i].id) << i;
    ASSERT_EQ(remote.saliency.size(), 2U);
    for (size_t s = 0; s < 2; ++s)
        for (size_t r = 0; r < local.saliency[s].rows.size(); ++r)
            EXPECT_EQ(remote.saliency[s].rows[r].scores, local.saliency[s].rows[r].scores) << s << ' ' << r;
    ASSERT_TRUE(remote.factors.has_value());
    EXPECT_EQ(remote.factors->k, 2);
    EXPECT_EQ(loadingsShape, local.factors->loadings.shape);
    std::vector<float> loadings(result.payloads[1].second.size() / sizeof(float));
    std::memcpy(loadings.data(), result.payloads[1].second.data(), loadings.size() * sizeof(float));
    EXPECT_EQ(loadings, local.factors->loadings.values);

    // The same model again: no second load.
    server.request(2, "analyze", params);
    const auto [second, again] = progressStages(2);
    EXPECT_EQ(again.header["exit"], 0);
    EXPECT_EQ(std::find(second.begin(), second.end(), "loading model"), second.end());

    // Bad options and params are named.
    nlohmann::json bad = params;
    bad["options"]["lens_mode"] = "sideways";
    server.request(3, "analyze", bad);
    const Frame badMode = server.until(3);
    EXPECT_EQ(badMode.header["exit"], 1);
    EXPECT_NE(badMode.header["error"].get<std::string>().find("options.lens_mode 'sideways' is not a lens mode"),
              std::string::npos)
        << badMode.header.dump();
    server.request(4, "analyze", {{"model", model}});
    const Frame noPrompt = server.until(4);
    EXPECT_EQ(noPrompt.header["exit"], 2);
    EXPECT_NE(noPrompt.header["error"].get<std::string>().find("params.prompt"), std::string::npos);
    server.request(6, "attention", {{"model", model}, {"ids", {1, 2}}});
    EXPECT_NE(server.until(6).header["error"].get<std::string>().find("params.position"), std::string::npos);
    server.request(7, "section", {{"model", model}, {"section", "lens"}});
    EXPECT_NE(server.until(7).header["error"].get<std::string>().find("\"factors\" or \"projection\""),
              std::string::npos);
    // One token's attention with the loaded model: [layers, heads, position + 1] float32.
    server.request(8, "attention", {{"model", model}, {"ids", {16, 11, 362, 11}}, {"position", 2}, {"threads", 1}});
    const Frame attention = server.until(8);
    ASSERT_EQ(attention.header["exit"], 0) << attention.header.dump();
    const std::vector<int64_t> shape = attention.header["shape"];
    ASSERT_EQ(shape.size(), 3U);
    EXPECT_EQ(shape[2], 3);
    ASSERT_EQ(attention.payloads.size(), 1U);
    std::vector<float> weights(attention.payloads[0].second.size() / sizeof(float));
    std::memcpy(weights.data(), attention.payloads[0].second.data(), attention.payloads[0].second.size());
    EXPECT_EQ(lm->attentionRow({16, 11, 362, 11}, 2).values, weights);
    server.request(5, "analyze", {{"model", "/no/such/model"}, {"prompt", "x"}});
    const Frame noModel = server.until(5);
    EXPECT_EQ(noModel.header["exit"], 1);
    EXPECT_NE(noModel.header["error"].get<std::string>().find("/no/such/model"), std::string::npos);
    server.closeInput();
    EXPECT_EQ(server.wait(), 0);
}

// The typed "diffuse" method: previews stream, and the whole result (image, every heat map)
// arrives equal to the engine's own run in this process.
TEST(ServeCli, TypedDiffuseStreamsPreviewsAndEqualsTheEngine)
{
    Server server;
    ASSERT_TRUE(server.next(60).has_value());  // hello
    const std::string model = fixture("sd-tiny-random").string();
    DiffusionOptions options;
    options.prompt = "a photo of a hand";
    options.steps = 3;
    options.seed = 3;
    options.previewEvery = 1;
    setThreadCount(1);
    server.request(1, "diffuse",
                   {{"model", model}, {"device", "cpu"}, {"threads", 1}, {"options", diffusionOptionsToJson(options)}});
    int previews = 0;
    Frame result;
    for (;;) {
        auto f = server.next();
        ASSERT_TRUE(f.has_value());
        if (f->header["type"] == "preview") {
            ++previews;
            ASSERT_EQ(f->payloads.size(), 1U);
            EXPECT_EQ(f->payloads[0].second.size(),
                      size_t(f->header["width"].get<int>()) * f->header["height"].get<int>() * 3);
        }
        if (f->header["type"] == "result" && f->header["id"] == 1) {
            result = *f;
            break;
        }
    }
    ASSERT_EQ(result.header["exit"], 0) << result.header.dump();
    EXPECT_EQ(previews, 3);
    const DiffusionResult remote = decodeDiffusionResult(result, "server");

    auto sd = DiffusionModel::load(model);
    options.previewEvery = 0;
    const DiffusionResult local = sd->generate(options);
    EXPECT_EQ(remote.rgb, local.rgb);
    EXPECT_EQ(remote.heatmaps.wordMaps.values, local.heatmaps.wordMaps.values);
    ASSERT_EQ(remote.heatmaps.headSums.size(), local.heatmaps.headSums.size());
    EXPECT_EQ(remote.heatmaps.headSums.back().values, local.heatmaps.headSums.back().values);
    ASSERT_EQ(remote.heatmaps.callMaps.size(), local.heatmaps.callMaps.size());  // one per UNet call (PNDM: 4)
    EXPECT_EQ(remote.timesteps, local.timesteps);
    // a filtered map (one layer, one call) computed from the remote result equals the local one
    HeatmapFilter filter;
    filter.layers = {0};
    filter.firstCall = 1;
    filter.endCall = 2;
    EXPECT_EQ(aggregateHeatmaps(remote.heatmaps, filter).values, aggregateHeatmaps(local.heatmaps, filter).values);

    server.request(2, "diffuse", {{"model", model}});
    const Frame noOptions = server.until(2);
    EXPECT_EQ(noOptions.header["exit"], 2);
    EXPECT_NE(noOptions.header["error"].get<std::string>().find("params.options"), std::string::npos);
    server.closeInput();
    EXPECT_EQ(server.wait(), 0);
}

// The typed methods of the other tabs ("compare", "patch", "lab") name what is wrong with their
// params before loading anything (their answers are checked against local runs in the app's
// remote-device tests).
TEST(ServeCli, TypedCompareLabAndPatchNameBadParams)
{
    Server server;
    ASSERT_TRUE(server.next(60).has_value());  // hello
    const std::string model = fixture("gpt2-tiny-random").string();
    const auto errorOf = [&](int id, const std::string& method, const nlohmann::json& params) {
        server.request(id, method, params);
        const Frame f = server.until(id);
        EXPECT_NE(f.header.value("exit", 0), 0) << f.header.dump();
        return f.header.value("error", std::string());
    };
    EXPECT_NE(errorOf(1, "compare", {{"model", model}, {"prompt_a", "1,"}}).find("params.prompt_b"), std::string::npos);
    EXPECT_NE(errorOf(2, "patch", {{"model", model}, {"clean", "1,"}, {"corrupt", "2,"}, {"answer", "#1"}})
                  .find("params.wrong"),
              std::string::npos);
    EXPECT_NE(
        errorOf(
            3, "patch",
            {{"model", model}, {"clean", "1,"}, {"corrupt", "2,"}, {"answer", "#1"}, {"wrong", "#2"}, {"site", "nose"}})
            .find("unknown site 'nose'"),
        std::string::npos);
    EXPECT_NE(errorOf(4, "patch",
                      {{"model", model},
                       {"clean", "1,"},
                       {"corrupt", "2,"},
                       {"answer", "#1"},
                       {"wrong", "#2"},
                       {"interventions", "ablate"}})
                  .find("params.interventions must be a list of specs"),
              std::string::npos);
    EXPECT_NE(errorOf(5, "lab", {{"model", model}}).find("params.options"), std::string::npos);
    EXPECT_NE(errorOf(6, "lab", {{"model", model}, {"options", {{"base", "x"}}}, {"export", "yes"}})
                  .find("params.export must be true or false"),
              std::string::npos);
    EXPECT_NE(errorOf(7, "lab", {{"model", model}, {"options", {{"base", "x"}, {"chunks", {"<lora:gone>"}}}}})
                  .find("the chunk's <lora:gone> was not found"),
              std::string::npos);
    server.closeInput();
    EXPECT_EQ(server.wait(), 0);
}
