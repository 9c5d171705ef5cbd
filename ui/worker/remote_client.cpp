#include "worker/remote_client.h"

#include "spyglass/analysis_options_json.h"
#include "spyglass/diffusion_remote.h"
#include "spyglass/error.h"
#include "spyglass/report_json.h"

#include <QProcess>

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

void RemoteClient::start(quint64 id, Kind kind, const char* method, nlohmann::json params, std::string payload)
{
    ensureStarted();
    m_inFlight.insert(id, kind);
    std::vector<std::pair<std::string, std::string>> payloads;
    if (!payload.empty()) payloads.emplace_back("report.json", std::move(payload));
    send({{"type", "request"}, {"id", id}, {"method", method}, {"params", std::move(params)}}, payloads);
}

void RemoteClient::analyze(quint64 id, const AnalysisRequest& request)
{
    start(id, Kind::Analysis, "analyze",
          {{"model", request.modelPath.toStdString()},
           {"prompt", request.prompt.toStdString()},
           {"device", "auto"},
           {"threads", request.threads},
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
          core::reportToJson(*request.base));  // a payload: a long run's report can pass a line's limit
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
        QMetaObject::invokeMethod(
            this, [this, id, message = QString::fromUtf8(e.what())] { emit failed(id, message); },
            Qt::QueuedConnection);
        return;
    }
    start(id, Kind::Image, "diffuse",
          {{"model", request.modelPath.toStdString()},
           {"device", "auto"},
           {"threads", request.threads},
           {"options", std::move(options)},
           {"load", core::diffusionLoadToJson(request.load)}});
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
    if (type == "progress") {
        emit progressed(*id, QString::fromStdString(h.value("stage", h.value("line", ""))), h.value("done", 0),
                        h.value("total", 0));
        return;
    }
    if (type == "error") {
        m_inFlight.remove(*id);
        if (h.value("kind", "") == "cancelled")
            emit cancelled(*id);
        else
            emit failed(*id, tr("%1: %2").arg(m_target.label(), QString::fromStdString(h.value("message", ""))));
        return;
    }
    if (type != "result") return;
    const Kind kind = m_inFlight.take(*id);
    const int exit = h.value("exit", 1);
    if (exit == 130 || h.value("kind", "") == "cancelled") {
        emit cancelled(*id);
        return;
    }
    if (exit != 0) {
        QString message = QString::fromStdString(h.value("error", "failed"));
        if (message.startsWith(QStringLiteral("error: "))) message = message.mid(7);
        emit failed(*id, tr("On %1: %2").arg(m_target.label(), message));
        return;
    }
    if (kind == Kind::Attention) {
        auto outcome = std::make_shared<AttentionOutcome>();
        outcome->position = 0;
        for (const auto& [name, bytes] : frame.payloads)
            if (name == "attention") {
                const auto shape = h.value("shape", std::vector<int64_t>{});
                outcome->weights.shape = shape;
                if (outcome->weights.numel() * sizeof(float) == bytes.size() && shape.size() == 3) {
                    outcome->weights.values.resize(bytes.size() / sizeof(float));
                    std::memcpy(outcome->weights.values.data(), bytes.data(), bytes.size());
                    outcome->position = static_cast<int>(shape[2]) - 1;
                    emit attentionReady(*id, outcome);
                    return;
                }
            }
        emit failed(*id, tr("%1 answered the attention request without its weights").arg(m_target.label()));
        return;
    }
    if (kind == Kind::Image) {
        if (const std::string note = h.value("notice", ""); !note.empty())
            emit notice(*id, QString::fromStdString(note));
        try {
            emit imageReady(*id, std::make_shared<const core::DiffusionResult>(core::decodeDiffusionResult(
                                     frame, "the image from " + m_target.label().toStdString())));
        } catch (const core::Error& e) {
            emit failed(*id, QString::fromUtf8(e.what()));
        }
        return;
    }
    for (const auto& [name, bytes] : frame.payloads) {
        if (name != "report.json") continue;
        try {
            auto report = std::make_shared<const core::Report>(
                core::reportFromJson(bytes, "the report from " + m_target.label().toStdString()));
            if (const std::string note = h.value("notice", ""); !note.empty())
                emit notice(*id, QString::fromStdString(note));
            emit reportReady(*id, report);
        } catch (const core::Error& e) {
            emit failed(*id, QString::fromUtf8(e.what()));
        }
        return;
    }
    emit failed(*id, tr("%1 answered without a report").arg(m_target.label()));
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
