#include "session_binding.h"

#include "pages/language_page.h"
#include "run_controller.h"
#include "runtime_bar.h"
#include "views/token_selection.h"

#include <QTabWidget>

#include <nlohmann/json.hpp>

namespace spyglass::ui {

SessionBinding::SessionBinding(LanguagePage* language, RuntimeBar* runtime, QTabWidget* tabs, RunController* controller)
    : m_language(language), m_runtime(runtime), m_tabs(tabs), m_controller(controller)
{
}

core::Session SessionBinding::capture() const
{
    core::Session session;
    session.prompt = m_language->prompt().toStdString();
    session.modelPath = m_language->modelPath().toStdString();
    nlohmann::json settings = nlohmann::json::parse(m_language->settings().toJson());
    const RunSettings run = m_runtime->settings();
    settings["device"] = run.device.toStdString();
    settings["threads"] = run.threads;
    if (run.device == QStringLiteral("remote"))
        settings["remote"] = {{"host", run.remote.host.toStdString()}, {"cli", run.remote.cliPath.toStdString()}};
    session.settingsJson = settings.dump();
    session.viewJson = nlohmann::json{{"tab", m_tabs->currentIndex()},
                                      {"view", m_language->viewTabs()->currentIndex()},
                                      {"selected_position", m_language->selection()->position()}}
                           .dump();
    session.report = m_controller->report();
    return session;
}

void SessionBinding::restore(const core::Session& session)
{
    m_language->setPrompt(QString::fromStdString(session.prompt));
    m_language->setModelPath(QString::fromStdString(session.modelPath));
    m_language->setSettings(AnalysisSettings::fromJson(session.settingsJson));
    const auto settings = nlohmann::json::parse(session.settingsJson);
    RunSettings run = m_runtime->settings();
    if (settings.contains("device") && settings["device"].is_string())
        run.device = QString::fromStdString(settings["device"].get<std::string>());
    if (settings.contains("threads") && settings["threads"].is_number_integer())
        run.threads = settings["threads"].get<int>();
    if (const auto remote = settings.find("remote"); remote != settings.end() && remote->is_object()) {
        const auto text = [&](const char* key, const char* fallback) {
            const auto it = remote->find(key);
            return QString::fromStdString(it != remote->end() && it->is_string() ? it->get<std::string>() : fallback);
        };
        run.remote.host = text("host", "");
        run.remote.cliPath = text("cli", "spyglass-cli");
    }
    if (run.device == QStringLiteral("remote") && run.remote.host.isEmpty()) run.device = QStringLiteral("cpu");
    m_runtime->setSettings(run);
    if (session.report) {
        m_language->selection()->select(-1);
        m_controller->showReport(session.report, QString::fromStdString(session.modelPath));
    }
    const auto view = nlohmann::json::parse(session.viewJson);
    m_tabs->setCurrentIndex(view.value("tab", 0));
    m_language->showView(view.value("view", 0));
    if (const int selected = view.value("selected_position", -1); selected >= 0)
        m_language->selection()->select(selected);
}

}  // namespace spyglass::ui
