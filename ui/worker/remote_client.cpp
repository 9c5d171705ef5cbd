#include "worker/remote_client.h"

#include "spyglass/analysis_options_json.h"
#include "spyglass/atomic_write.h"
#include "spyglass/diffusion_remote.h"
#include "spyglass/error.h"
#include "spyglass/lab_remote.h"
#include "spyglass/patching.h"
#include "spyglass/prompt_comparison.h"
#include "spyglass/report_json.h"
#include "spyglass/report_update_json.h"
#include "spyglass/run_diff.h"

#include <QProcess>

#include <filesystem>

#include <cstring>
#include <memory>

namespace spyglass::ui {

namespace {

constexpr qsizetype kStderrTail = 4096;

// The id of one of our requests (a number; cancel requests carry text ids and are not answered).
std::optional<quint64> requestId(const nlohmann::json& header)
{
    const auto it = header.find("id");
    if (it == header.end() || !it->is_number_unsigned()) return std::nullopt;
    return it->get<quint64>();
}

// The payload named `name`, or null.
const std::string* payload(const core::Frame& frame, const std::string& name)
{
    for (const auto& [n, bytes] : frame.payloads)
        if (n == name) return &bytes;
    return nullptr;
}

// A file name the server may write under the export folder: relative, no "..", no empty part.
bool safeRelative(const std::filesystem::path& path)
{
    if (path.empty() || path.is_absolute() || path.has_root_name()) return false;
    for (const auto& part : path)
        if (part == ".." || part == "." || part.empty()) return false;
    return true;
}

}  // namespace

RemoteClient::RemoteClient(QObject* parent) : QObject(parent)
{
    m_helloTimer.setSingleShot(true);
    m_helloTimer.setInterval(30000);
    connect(&m_helloTimer, &QTimer::timeout, this, [this] {
        lose(tr("No answer from %1 within %2 s%3")
                 .arg(m_target.label())
                 .arg(m_helloTimer.interval() / 1000)
                 .arg(lastServerWords().isEmpty() ? QString() : QStringLiteral(": ") + lastServerWords()));
    });
}

RemoteClient::~RemoteClient()
{
    if (!m_process) return;
    disconnect(m_process, nullptr, this, nullptr);
    m_process->closeWriteChannel();  // the server finishes when its input ends
    if (!m_process->waitForFinished(1000)) {
        m_process->kill();
        m_process->waitForFinished(1000);
    }
}

void RemoteClient::setTarget(const RemoteTarget& target)
{
    if (target == m_target) return;
    if (m_process) lose(tr("The remote device changed to %1").arg(target.label()), false);
    m_target = target;
}

void RemoteClient::ensureStarted()
{
    if (m_process) return;
    m_reader = core::FrameReader();
    m_helloSeen = false;
    m_server.clear();
    m_stderrTail.clear();
    m_process = new QProcess(this);
    connect(m_process, &QProcess::readyReadStandardOutput, this, &RemoteClient::readFrames);
    connect(m_process, &QProcess::readyReadStandardError, this, [this] {
        m_stderrTail += m_process->readAllStandardError();
        if (m_stderrTail.size() > kStderrTail) m_stderrTail = m_stderrTail.right(kStderrTail);
    });
    connect(m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart)
            lose(tr("Could not start %1 for the remote device %2: %3")
                     .arg(m_target.program(), m_target.label(), m_process->errorString()));
    });
    connect(m_process, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
        m_stderrTail += m_process->readAllStandardError();
        const QString said = lastServerWords();
        const QString how = status == QProcess::CrashExit ? tr("it crashed") : tr("exit status %1").arg(code);
        lose(tr("Lost the connection to %1 (%2)").arg(m_target.label(), said.isEmpty() ? how : said));
    });
    m_process->start(m_target.program(), m_target.arguments());
    m_helloTimer.start();
}

void RemoteClient::send(const nlohmann::json& frame, const std::vector<std::pair<std::string, std::string>>& payloads)
{
    const std::string bytes = core::encodeFrame(frame, payloads);
    m_process->write(bytes.data(), static_cast<qint64>(bytes.size()));
}

void RemoteClient::start(quint64 id, Kind kind, const char* method, nlohmann::json params,
                         std::vector<std::pair<std::string, std::string>> payloads)
{
    ensureStarted();
    m_inFlight.insert(id, kind);
    send({{"type", "request"}, {"id", id}, {"method", method}, {"params", std::move(params)}}, payloads);
}

void RemoteClient::failLater(quint64 id, const QString& message)
{
    QMetaObject::invokeMethod(
        this, [this, id, message] { emit failed(id, message); }, Qt::QueuedConnection);
}

void RemoteClient::analyze(quint64 id, const AnalysisRequest& request)
{
    start(id, Kind::Analysis, "analyze",
          {{"model", request.modelPath.toStdString()},
           {"prompt", request.prompt.toStdString()},
           {"device", "auto"},
           {"threads", request.threads},
           {"stream", true},  // the stages as they come, as a local run shows them
           {"diff", true},    // with interventions: the runs without them, for the before/after diff
           {"options", nlohmann::json::parse(core::analysisOptionsToJson(request.options))}});
}

void RemoteClient::section(quint64 id, const SectionRequest& request)
{
    start(id, Kind::Analysis, "section",
          {{"model", request.modelPath.toStdString()},
           {"device", "auto"},
           {"threads", request.threads},
           {"section", request.section == SectionRequest::Section::Factors ? "factors" : "projection"},
           {"options", nlohmann::json::parse(core::analysisOptionsToJson(request.options))}},
          {{"report.json", core::reportToJson(*request.base)}});  // a long run's report can pass a line's limit
}

void RemoteClient::attention(quint64 id, const AttentionRequest& request)
{
    start(id, Kind::Attention, "attention",
          {{"model", request.modelPath.toStdString()},
           {"device", "auto"},
           {"threads", request.threads},
           {"ids", request.ids},
           {"position", request.position},
           {"interventions", request.interventions}});
}

void RemoteClient::diffuse(quint64 id, const DiffusionRequest& request)
{
    nlohmann::json options;
    try {
        options = core::diffusionOptionsToJson(request.options);
    } catch (const core::Error& e) {
        return failLater(id, QString::fromUtf8(e.what()));
    }
    start(id, Kind::Image, "diffuse",
          {{"model", request.modelPath.toStdString()},
           {"device", "auto"},
           {"threads", request.threads},
           {"options", std::move(options)},
           {"load", core::diffusionLoadToJson(request.load)}});
}

void RemoteClient::compare(quint64 id, const CompareRequest& request)
{
    start(id, Kind::Compare, "compare",
          {{"model", request.modelPath.toStdString()},
           {"device", "auto"},
           {"threads", request.threads},
           {"prompt_a", request.promptA.toStdString()},
           {"prompt_b", request.promptB.toStdString()},
           {"options", nlohmann::json::parse(core::analysisOptionsToJson(request.options))}});
}

void RemoteClient::patch(quint64 id, const PatchRequest& request)
{
    m_patches.insert(id, request);
    start(id, Kind::Patch, "patch",
          {{"model", request.modelPath.toStdString()},
           {"device", "auto"},
           {"threads", request.threads},
           {"clean", request.clean.toStdString()},
           {"corrupt", request.corrupt.toStdString()},
           {"answer", request.answer.toStdString()},
           {"wrong", request.wrong.toStdString()},
           {"site", core::patchSiteName(request.site)},
           {"interventions", request.interventions}});
}

void RemoteClient::lab(quint64 id, const LabRequest& request)
{
    m_labs.insert(id, request);
    std::vector<std::pair<std::string, std::string>> payloads;
    if (!request.mask.empty()) payloads.emplace_back("mask", std::string(request.mask.begin(), request.mask.end()));
    start(id, Kind::Lab, "lab",
          {{"model", request.modelPath.toStdString()},
           {"device", "auto"},
           {"threads", request.threads},
           {"options", core::labOptionsToJson(request.options)},
           {"load", core::diffusionLoadToJson(request.load)},
           {"export", !request.exportDir.isEmpty()}},
          std::move(payloads));
}

void RemoteClient::cancel(quint64 id)
{
    if (!m_process || !m_inFlight.contains(id)) return;
    send({{"type", "request"},
          {"id", "cancel-" + std::to_string(id)},
          {"method", "cancel"},
          {"params", {{"target", id}}}});
}

void RemoteClient::readFrames()
{
    const QByteArray bytes = m_process->readAllStandardOutput();
    m_reader.feed(bytes.constData(), static_cast<size_t>(bytes.size()));
    for (;;) {
        std::optional<core::Frame> frame;
        try {
            frame = m_reader.next();
        } catch (const core::Error& e) {
            lose(tr("%1 sent something that is not the Spyglass protocol (%2): does a login script on the server "
                    "print to standard output?")
                     .arg(m_target.label(), e.what()));
            return;
        }
        if (!frame) return;
        try {
            handle(*frame);
        } catch (const nlohmann::json::exception& e) {  // a member of the wrong type
            lose(tr("%1 sent a malformed answer (%2)").arg(m_target.label(), e.what()));
            return;
        }
        if (!m_process) return;  // the frame ended the connection
    }
}

void RemoteClient::handle(const core::Frame& frame)
{
    const nlohmann::json& h = frame.header;
    const std::string type = h.value("type", "");
    if (type == "hello") {
        if (h.value("protocol", "") != "spyglass.serve" || h.value("version", 0) != kProtocolVersion) {
            lose(tr("%1 speaks protocol version %2 of '%3'; this Spyglass speaks version %4 of spyglass.serve")
                     .arg(m_target.label())
                     .arg(h.value("version", 0))
                     .arg(QString::fromStdString(h.value("protocol", "?")))
                     .arg(kProtocolVersion));
            return;
        }
        m_helloSeen = true;
        m_helloTimer.stop();
        m_server =
            tr("Spyglass %1 on %2 (%3%4)")
                .arg(QString::fromStdString(h.value("spyglass", "?")), m_target.label(),
                     QString::fromStdString(h.value("runtime", "")), h.value("cuda", false) ? tr(", CUDA") : QString());
        return;
    }
    if (!m_helloSeen) {
        lose(tr("%1 did not start with the Spyglass hello: is %2 a Spyglass CLI?")
                 .arg(m_target.label(), m_target.cliPath));
        return;
    }
    const std::optional<quint64> id = requestId(h);
    if (type == "error" && h.contains("id") && h["id"].is_null()) {
        // a frame of ours the server could not read (so it cannot say whose): fail what waits on it
        const QString message =
            tr("%1 could not read a request: %2").arg(m_target.label(), QString::fromStdString(h.value("message", "")));
        m_patches.clear();
        m_labs.clear();
        for (const quint64 waiting : std::exchange(m_inFlight, {}).keys()) emit failed(waiting, message);
        return;
    }
    if (!id || !m_inFlight.contains(*id)) return;  // answers to cancel requests, or to superseded runs
    if (type == "preview") {
        const int width = h.value("width", 0), height = h.value("height", 0);
        if (frame.payloads.size() == 1 && width > 0 && height > 0 &&
            frame.payloads[0].second.size() == size_t(width) * size_t(height) * 3) {
            const auto* rgb = reinterpret_cast<const uchar*>(frame.payloads[0].second.data());
            emit imagePreviewReady(*id, h.value("step", 0), h.value("total", 0),
                                   QImage(rgb, width, height, width * 3, QImage::Format_RGB888).copy());
        }
        return;
    }
    if (type == "update") {
        if (const std::string* json = payload(frame, "update.json")) {
            try {
                emit reportUpdated(*id, core::reportUpdateFromJson(*json, source()));
            } catch (const core::Error&) {
                // a stage that cannot be read is skipped: the whole report at the end is the authority
            }
        }
        return;
    }
    if (type == "progress") {
        emit progressed(*id, QString::fromStdString(h.value("stage", h.value("line", ""))), h.value("done", 0),
                        h.value("total", 0));
        return;
    }
    if (type == "error") {
        forget(*id);
        if (h.value("kind", "") == "cancelled")
            emit cancelled(*id);
        else
            emit failed(*id, tr("%1: %2").arg(m_target.label(), QString::fromStdString(h.value("message", ""))));
        return;
    }
    if (type != "result") return;
    const Kind kind = m_inFlight.value(*id);
    const int exit = h.value("exit", 1);
    if (exit == 130 || h.value("kind", "") == "cancelled") {
        forget(*id);
        emit cancelled(*id);
        return;
    }
    if (exit != 0) {
        forget(*id);
        QString message = QString::fromStdString(h.value("error", "failed"));
        if (message.startsWith(QStringLiteral("error: "))) message = message.mid(7);
        emit failed(*id, tr("On %1: %2").arg(m_target.label(), message));
        return;
    }
    if (const std::string note = h.value("notice", ""); !note.empty()) emit notice(*id, QString::fromStdString(note));
    try {
        switch (kind) {
            case Kind::Analysis:
                return finishReport(*id, frame);
            case Kind::Attention:
                return finishAttention(*id, frame);
            case Kind::Image:
                return finishImage(*id, frame);
            case Kind::Compare:
                return finishCompare(*id, frame);
            case Kind::Patch:
                return finishPatch(*id, frame);
            case Kind::Lab:
                return finishLab(*id, frame);
        }
    } catch (const core::Error& e) {
        forget(*id);
        emit failed(*id, QString::fromUtf8(e.what()));
    } catch (const nlohmann::json::exception& e) {  // a member of the wrong type in the answer
        forget(*id);
        emit failed(*id, tr("%1 sent a malformed answer (%2)").arg(m_target.label(), e.what()));
    }
}

void RemoteClient::forget(quint64 id)
{
    m_inFlight.remove(id);
    m_patches.remove(id);
    m_labs.remove(id);
}

std::string RemoteClient::source() const
{
    return "the answer from " + m_target.label().toStdString();
}

void RemoteClient::finishReport(quint64 id, const core::Frame& frame)
{
    forget(id);
    const std::string* json = payload(frame, "report.json");
    if (!json) throw core::Error(tr("%1 answered without a report").arg(m_target.label()).toStdString());
    core::Report report = core::reportFromJson(*json, source());
    // The factors' loadings (what the factor-ablation actions need) travel as float32.
    if (const std::string* loadings = payload(frame, "loadings"); loadings && report.factors) {
        const auto shape = frame.header.value("loadings_shape", std::vector<int64_t>{});
        core::HostTensor t;
        t.shape = shape;
        if (shape.size() != 2 || shape[0] < 0 || shape[1] < 0 ||
            static_cast<uint64_t>(shape[0]) * static_cast<uint64_t>(shape[1]) * sizeof(float) != loadings->size())
            throw core::Error(source() + ": the factor loadings do not match their shape");
        t.values.resize(loadings->size() / sizeof(float));
        std::memcpy(t.values.data(), loadings->data(), loadings->size());
        report.factors->loadings = std::move(t);
    }
    const std::string* baseline = payload(frame, "baseline.json");
    const std::string* forced = payload(frame, "forced.json");
    if (baseline && forced)
        emit diffReady(id, std::make_shared<const core::RunDiff>(core::diffRuns(
                               core::reportFromJson(*baseline, source() + " (the run without interventions)"), report,
                               core::reportFromJson(*forced, source() + " (the forced run)"))));
    emit reportReady(id, std::make_shared<const core::Report>(std::move(report)));
}

void RemoteClient::finishAttention(quint64 id, const core::Frame& frame)
{
    forget(id);
    const std::string* bytes = payload(frame, "attention");
    const auto shape = frame.header.value("shape", std::vector<int64_t>{});
    auto outcome = std::make_shared<AttentionOutcome>();
    outcome->weights.shape = shape;
    if (!bytes || shape.size() != 3 || outcome->weights.numel() * sizeof(float) != bytes->size())
        throw core::Error(
            tr("%1 answered the attention request without its weights").arg(m_target.label()).toStdString());
    outcome->weights.values.resize(bytes->size() / sizeof(float));
    std::memcpy(outcome->weights.values.data(), bytes->data(), bytes->size());
    outcome->position = static_cast<int>(shape[2]) - 1;
    emit attentionReady(id, outcome);
}

void RemoteClient::finishImage(quint64 id, const core::Frame& frame)
{
    forget(id);
    emit imageReady(id, std::make_shared<const core::DiffusionResult>(
                            core::decodeDiffusionResult(frame, "the image from " + m_target.label().toStdString())));
}

void RemoteClient::finishCompare(quint64 id, const core::Frame& frame)
{
    forget(id);
    const std::string* json = payload(frame, "comparison.json");
    if (!json) throw core::Error(source() + ": no comparison");
    emit compareReady(id, std::make_shared<const core::PromptComparison>(core::comparisonFromWire(*json, source())));
}

void RemoteClient::finishPatch(quint64 id, const core::Frame& frame)
{
    auto outcome = std::make_shared<PatchOutcome>();
    outcome->request = m_patches.value(id);
    forget(id);
    const std::string* json = payload(frame, "patch.json");
    if (!json) throw core::Error(source() + ": no patching result");
    outcome->result = core::patchResultFromJson(*json, source());
    const nlohmann::json j = nlohmann::json::parse(*json);
    auto texts = [&](const char* key) {
        QStringList out;
        const auto it = j.find(key);
        if (it == j.end() || !it->is_array()) throw core::Error(source() + ": " + key + " is missing");
        for (const auto& t : *it) {
            if (!t.is_string()) throw core::Error(source() + ": " + key + " has an item that is not a text");
            out << QString::fromStdString(t.get<std::string>());
        }
        return out;
    };
    outcome->cleanTokens = texts("clean_tokens");
    outcome->corruptTokens = texts("corrupt_tokens");
    if (outcome->result.site != core::PatchSite::Head &&
        outcome->cleanTokens.size() != static_cast<qsizetype>(outcome->result.positions.size()))
        throw core::Error(source() + ": the patching result's positions do not match the prompt's tokens");
    const auto integer = [&](const char* key) {
        const auto it = j.find(key);
        if (it == j.end() || !it->is_number_integer()) throw core::Error(source() + ": " + key + " is missing");
        return it->get<int>();
    };
    outcome->answer = integer("answer");
    outcome->wrong = integer("wrong");
    outcome->answerText = QString::fromStdString(j.value("answer_text", ""));
    outcome->wrongText = QString::fromStdString(j.value("wrong_text", ""));
    outcome->architecture = QString::fromStdString(j.value("architecture", ""));
    emit patchReady(id, outcome);
}

void RemoteClient::finishLab(quint64 id, const core::Frame& frame)
{
    const LabRequest request = m_labs.value(id);
    forget(id);
    auto [report, images] = core::decodeLabAnswer(frame, source());
    auto result = std::make_shared<LabResult>();
    result->options = request.options;
    if (const auto options = frame.header.find("options"); options != frame.header.end())
        result->options = core::labOptionsFromJson(*options, source());  // as run: the base's tags out
    if (result->options.chunks.size() != images.without.size())
        throw core::Error(source() + ": the lab result has not one image per chunk");
    result->report = std::move(report);
    result->mask = request.mask.empty()
                       ? std::vector<uint8_t>(static_cast<size_t>(images.width) * static_cast<size_t>(images.height), 1)
                       : request.mask;
    static_cast<core::LabImages&>(*result) = std::move(images);
    if (!request.exportDir.isEmpty()) {
        const std::filesystem::path dir = request.exportDir.toStdString();
        for (const auto& [name, bytes] : frame.payloads) {
            if (!name.starts_with("export/")) continue;
            const std::filesystem::path relative = name.substr(7);
            if (!safeRelative(relative))
                throw core::Error(source() + ": the export file name '" + name + "' leaves the export folder");
            std::error_code ec;
            std::filesystem::create_directories((dir / relative).parent_path(), ec);
            core::writeFileAtomically(dir / relative, bytes);
        }
    }
    emit labReady(id, result);
}

void RemoteClient::lose(const QString& why, bool announce)
{
    m_helloTimer.stop();
    if (m_process) {
        QProcess* process = std::exchange(m_process, nullptr);
        disconnect(process, nullptr, this, nullptr);
        if (process->state() == QProcess::NotRunning) {
            process->deleteLater();
        } else {  // deleted once reaped (deleting a running QProcess blocks until it ends)
            connect(process, &QProcess::finished, process, &QObject::deleteLater);
            process->kill();
        }
    }
    m_helloSeen = false;
    const QList<quint64> carried = std::exchange(m_inFlight, {}).keys();
    m_patches.clear();
    m_labs.clear();
    for (const quint64 id : carried) emit failed(id, why);
    if (carried.isEmpty() && announce) emit connectionLost(why);  // else the failures above said it
}

QString RemoteClient::lastServerWords() const
{
    const QStringList lines = QString::fromUtf8(m_stderrTail).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QStringList last;
    for (auto it = lines.rbegin(); it != lines.rend() && last.size() < 2; ++it)
        if (!it->trimmed().isEmpty()) last.prepend(it->trimmed());
    return last.join(QStringLiteral(" / "));
}

}  // namespace spyglass::ui
