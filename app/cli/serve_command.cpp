// `spyglass-cli serve --stdio`: runs subcommands for a remote client (the app's "Remote (SSH)"
// device, or a script) over standard input/output, as docs/serve-protocol.md specifies: JSON-line
// requests in; a hello, progress, and a result carrying the files the command wrote (binary
// payloads) or an error out. One request runs at a time, the rest queue; "cancel" stops the running
// one at its next progress step or takes a queued one out. Authentication and encryption are
// SSH's: serve opens no port and reads only its standard input.
#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "cli/common_options.h"
#include "cli/serve_analyzer.h"
#include "cli/serve_diffuser.h"
#include "cli/serve_lab.h"
#include "cli/serve_params.h"

#include "spyglass/diffusion_remote.h"
#include "spyglass/error.h"
#include "spyglass/lab_remote.h"
#include "spyglass/report_update_json.h"
#include "spyglass/runtime.h"
#include "spyglass/serve_frames.h"
#include "spyglass/tokenizer.h"
#include "spyglass/version.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

namespace spyglass::cli {

namespace {

constexpr int kProtocolVersion = 1;

// The protocol's output: the process's original standard output, one whole frame at a time.
class FrameWriter {
public:
    explicit FrameWriter(int fd) : m_fd(fd) {}
    void send(const nlohmann::json& header, const std::vector<std::pair<std::string, std::string>>& payloads = {})
    {
        const std::string bytes = core::encodeFrame(header, payloads);
        const std::lock_guard lock(m_mutex);
        size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::write(m_fd, bytes.data() + done, bytes.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;  // the client went away; the reader sees the end of its input
            done += static_cast<size_t>(n);
        }
    }

private:
    int m_fd;
    std::mutex m_mutex;
};

struct Request {
    nlohmann::json id;
    std::string method;   // "run" or a typed method (typedMethod)
    std::string command;  // run
    std::vector<std::string> args;
    nlohmann::json params;                                      // the typed methods
    std::vector<std::pair<std::string, std::string>> payloads;  // sent with the request
};

// The methods that queue and run one at a time (besides "run").
bool typedMethod(const std::string& method)
{
    for (const char* m : {"analyze", "section", "attention", "compare", "patch", "diffuse", "lab"})
        if (method == m) return true;
    return false;
}

// The commands a client may run (everything but serve itself and the long trainers).
bool servable(const std::string& command)
{
    for (const char* c : {"info", "tokenize", "generate", "trace", "analyze", "patch", "ab", "steer-vector", "batch",
                          "aggregate", "dequantize", "diffuse", "compare-prompts", "eval", "eval-image", "render"})
        if (command == c) return true;
    return false;
}

// Progress frames of a typed request (at most ~20 a second, but every new stage and every stage's
// end); false — stop — once the request is cancelled.
core::ProgressCallback progressFrames(FrameWriter& out, const nlohmann::json& id, const std::atomic<bool>& cancel)
{
    auto last = std::make_shared<std::pair<std::chrono::steady_clock::time_point, std::string>>(
        std::chrono::steady_clock::now() - std::chrono::seconds(1), std::string());
    return [&out, id, &cancel, last](const core::Progress& p) {
        const auto now = std::chrono::steady_clock::now();
        if (p.stage != last->second || p.done == p.total || now - last->first > std::chrono::milliseconds(50)) {
            std::string line = p.stage;
            if (p.total > 0) line += " " + std::to_string(p.done) + "/" + std::to_string(p.total);
            out.send({{"type", "progress"},
                      {"id", id},
                      {"line", core::sanitizeUtf8(line)},
                      {"stage", core::sanitizeUtf8(p.stage)},
                      {"done", p.done},
                      {"total", p.total}});
            *last = {now, p.stage};
        }
        return !cancel.load();
    };
}

// What the typed methods keep between requests.
struct TypedServers {
    ServeAnalyzer analyzer;
    ServeDiffuser diffuser;
    ServeLab lab{diffuser};  // its cached runs, on diffuser's pipeline
};

using Payloads = std::vector<std::pair<std::string, std::string>>;

// A float32 tensor's values as a payload (its shape goes in the header).
std::string floatBytes(const core::HostTensor& t)
{
    return {reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(float)};
}

// Runs typed request `r` (not "run"), streaming its updates and previews through `out`, and fills
// the result header and payloads. Throws as the engine does (runGuarded turns it into exit codes).
void answerTyped(TypedServers& servers, FrameWriter& out, const Request& r, const std::string& source,
                 const core::ProgressCallback& progress, nlohmann::json& result, Payloads& files)
{
    if (r.method == "analyze" || r.method == "section") {
        const auto stage = [&](const core::ReportUpdate& update) {
            out.send({{"type", "update"}, {"id", r.id}}, {{"update.json", core::reportUpdateToJson(update)}});
        };
        ServedReport served = r.method == "analyze" ? servers.analyzer.analyze(r.params, source, progress, stage)
                                                    : servers.analyzer.section(r.params, r.payloads, source, progress);
        if (!served.notice.empty()) result["notice"] = served.notice;
        files.emplace_back("report.json", std::move(served.reportJson));
        if (!served.baselineJson.empty()) {
            files.emplace_back("baseline.json", std::move(served.baselineJson));
            files.emplace_back("forced.json", std::move(served.forcedJson));
        }
        if (!served.loadings.values.empty()) {
            result["loadings_shape"] = served.loadings.shape;
            files.emplace_back("loadings", floatBytes(served.loadings));
        }
    } else if (r.method == "attention") {
        const core::HostTensor weights = servers.analyzer.attention(r.params, progress);
        result["shape"] = weights.shape;
        files.emplace_back("attention", floatBytes(weights));
    } else if (r.method == "compare") {
        files.emplace_back("comparison.json", servers.analyzer.compare(r.params, source, progress));
    } else if (r.method == "patch") {
        files.emplace_back("patch.json", servers.analyzer.patch(r.params, progress));
    } else if (r.method == "lab") {
        ServedLab served = servers.lab.run(r.params, r.payloads, source, progress);
        result["options"] = core::labOptionsToJson(served.options);
        core::encodeLabAnswer(served.report, served.images, result, files);
        for (auto& file : served.exported) files.push_back(std::move(file));
    } else {  // diffuse
        const auto preview = [&](int step, int total, int width, int height, const std::vector<uint8_t>& rgb) {
            out.send({{"type", "preview"},
                      {"id", r.id},
                      {"step", step},
                      {"total", total},
                      {"width", width},
                      {"height", height}},
                     {{"rgb", std::string(rgb.begin(), rgb.end())}});
        };
        core::encodeDiffusionResult(servers.diffuser.run(r.params, source, progress, preview), result, files);
        if (const auto left = result["diffusion"].find("call_maps_left_out"); left != result["diffusion"].end())
            result["notice"] = "the per-step heat maps (" + std::to_string(left->get<size_t>() >> 20) +
                               " MiB) stayed on the server: the Step filter needs a run on this computer";
    }
}

}  // namespace

int runServe(const std::vector<std::string>& args)
{
    ArgParser parser("serve", "--stdio");
    parser.addFlag("stdio", "speak the protocol on standard input/output (the only transport)");
    parser.parse(args);
    if (parser.helpRequested()) {
        std::cout << parser.helpText()
                  << "\nReads JSON-line requests on stdin and answers on stdout (docs/serve-protocol.md, version "
                  << kProtocolVersion
                  << "):\n"
                     "  {\"type\":\"request\",\"id\":1,\"method\":\"run\",\"params\":{\"command\":\"analyze\",\n"
                     "   \"args\":[\"--model\",\"M\",\"--prompt\",\"1, 2, 3,\",\"--out\",\"{out}/report.json\"]}}\n"
                     "runs the subcommand with {out} replaced by a fresh folder, streams its progress and returns\n"
                     "every file it wrote there as binary payloads. The typed methods of the app's Remote device —\n"
                     "analyze, section, attention, compare, patch, diffuse, lab — keep the model (and the lab's\n"
                     "runs) loaded between requests.\n"
                     "Also: cancel, ping, shutdown. Model paths are\n"
                     "this machine's. Meant to be started by `ssh host spyglass-cli serve --stdio`.\n";
        return 0;
    }
    if (!parser.has("stdio")) throw UsageError("serve needs --stdio (the only transport: run it through ssh)");

    // The protocol owns the original stdout; anything a subcommand prints goes to stderr instead.
    std::cout.flush();
    const int protocolFd = ::dup(STDOUT_FILENO);
    if (protocolFd < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
        throw core::Error("serve: cannot set up standard output");
    FrameWriter out(protocolFd);
    core::setThreadCount(core::kDefaultThreadCount);  // as every subcommand without --threads
    out.send({{"type", "hello"},
              {"protocol", "spyglass.serve"},
              {"version", kProtocolVersion},
              {"spyglass", kVersion},
              {"runtime", core::runtimeDescription()},
              {"cuda", core::cudaAvailable()}});

    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Request> queue;
    nlohmann::json running;  // the id being run (null when idle)
    std::atomic<bool> cancel{false};
    bool closing = false;
    TypedServers servers;  // keep the last models (and the lab's runs) loaded

    // Reads requests until the client closes its end; "cancel" acts at once.
    std::thread reader([&] {
        core::FrameReader frames;
        char buffer[65536];
        for (;;) {
            const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            frames.feed(buffer, static_cast<size_t>(n));
            for (;;) {
                std::optional<core::Frame> frame;
                try {
                    frame = frames.next();
                } catch (const core::Error& e) {
                    out.send({{"type", "error"}, {"id", nullptr}, {"kind", "protocol"}, {"message", e.what()}});
                    continue;
                }
                if (!frame) break;
                const nlohmann::json& h = frame->header;
                const nlohmann::json id = h.contains("id") ? h["id"] : nlohmann::json();
                const auto protocolError = [&](const std::string& message) {
                    out.send({{"type", "error"}, {"id", id}, {"kind", "protocol"}, {"message", message}});
                };
                if (h.value("type", "") != "request" || !h.contains("method") || !h["method"].is_string())
                    protocolError("expected {\"type\": \"request\", \"id\": …, \"method\": …}");
                else if (!id.is_number_integer() && !id.is_string())
                    protocolError("a request needs an \"id\" (a number or a text)");
                else if (const std::string method = h["method"]; method == "ping")
                    out.send({{"type", "result"}, {"id", id}, {"exit", 0}, {"files", nlohmann::json::array()}});
                else if (method == "cancel") {
                    const nlohmann::json target =
                        h.contains("params") ? h["params"].value("target", nlohmann::json()) : nlohmann::json();
                    const std::lock_guard lock(mutex);
                    if (!running.is_null() && running == target) cancel = true;
                    for (auto it = queue.begin(); it != queue.end(); ++it)
                        if (it->id == target) {
                            out.send(
                                {{"type", "error"}, {"id", target}, {"kind", "cancelled"}, {"message", "cancelled"}});
                            queue.erase(it);
                            break;
                        }
                } else if (method == "shutdown") {
                    const std::lock_guard lock(mutex);
                    closing = true;
                    wake.notify_all();
                } else if (typedMethod(method)) {
                    Request r;
                    r.id = id;
                    r.method = method;
                    r.params = h.value("params", nlohmann::json());
                    r.payloads = std::move(frame->payloads);  // e.g. section's report.json
                    const std::lock_guard lock(mutex);
                    queue.push_back(std::move(r));
                    wake.notify_all();
                } else if (method == "run") {
                    const nlohmann::json params = h.value("params", nlohmann::json::object());
                    Request r;
                    r.id = id;
                    r.method = method;
                    try {
                        r.command = params.at("command").get<std::string>();
                        r.args = params.value("args", std::vector<std::string>{});
                    } catch (const std::exception&) {
                        protocolError("\"run\" needs params {\"command\": text, \"args\": [text, …]}");
                        continue;
                    }
                    const std::lock_guard lock(mutex);
                    queue.push_back(std::move(r));
                    wake.notify_all();
                } else {
                    protocolError("unknown method '" + method +
                                  "' (run, analyze, section, attention, compare, patch, diffuse, lab, cancel, ping, "
                                  "shutdown)");
                }
            }
        }
        const std::lock_guard lock(mutex);
        closing = true;  // the client is gone: stop the running request too
        cancel = true;
        wake.notify_all();
    });

    for (;;) {
        Request r;
        {
            std::unique_lock lock(mutex);
            wake.wait(lock, [&] { return closing || !queue.empty(); });
            if (queue.empty() || (closing && cancel)) break;
            r = std::move(queue.front());
            queue.pop_front();
            running = r.id;
            cancel = false;
        }
        std::error_code ec;
        char pattern[] = "/tmp/spyglass-serve-XXXXXX";
        const char* made = ::mkdtemp(pattern);
        nlohmann::json result{{"type", "result"}, {"id", r.id}};
        std::vector<std::pair<std::string, std::string>> files;
        if (r.method != "run") {
            if (made) ::rmdir(made);  // the typed methods write no files
            std::string error;
            const std::string source = "request " + r.id.dump();
            const core::ProgressCallback progress = progressFrames(out, r.id, cancel);
            const int code = runGuarded(
                [&] {
                    answerTyped(servers, out, r, source, progress, result, files);
                    return 0;
                },
                error);
            result["exit"] = code;
            if (!error.empty()) result["error"] = error;
            if (code == 130) result["kind"] = "cancelled";
        } else if (!made) {
            result["exit"] = 1;
            result["error"] = "error: cannot create a folder for the results under /tmp";
        } else if (!servable(r.command)) {
            result["exit"] = 2;
            result["error"] = "error: '" + r.command + "' cannot be run through serve";
        } else {
            const std::filesystem::path dir = made;
            for (auto& a : r.args)
                for (size_t at; (at = a.find("{out}")) != std::string::npos;) a.replace(at, 5, dir.string());
            setProgressSink(
                [&](const std::string& line) {
                    out.send({{"type", "progress"}, {"id", r.id}, {"line", core::sanitizeUtf8(line)}});
                },
                [&] { return cancel.load(); });
            std::string error;
            const int code = runCommand(r.command, r.args, error);
            setProgressSink({}, {});
            result["exit"] = code;
            if (!error.empty()) result["error"] = error;
            if (code == 130) result["kind"] = "cancelled";
            files = filesUnder(dir);
            std::filesystem::remove_all(dir, ec);
        }
        nlohmann::json names = nlohmann::json::array();
        for (const auto& f : files) names.push_back(f.first);
        result["files"] = names;
        out.send(result, files);
        const std::lock_guard lock(mutex);
        running = nullptr;
    }
    // The reader may still be blocked in read() (a client that asked for shutdown without closing
    // its end): end the process here rather than unwind the state that thread uses.
    reader.detach();
    ::close(protocolFd);
    std::cerr.flush();
    ::_exit(0);
}

}  // namespace spyglass::cli
