#include "pages/language_page.h"

#include "example_prompts.h"
#include "models/lens_table_model.h"
#include "pages/analysis_settings_panel.h"
#include "pages/intervention_list.h"
#include "pages/language_model_path.h"
#include "run_controller.h"
#include "spyglass/error.h"
#include "spyglass/report_json.h"
#include "views/attention_view.h"
#include "views/factors_view.h"
#include "views/figure_caption.h"
#include "views/figure_export.h"
#include "views/intervention_diff_view.h"
#include "views/lens_view.h"
#include "views/projection_view.h"
#include "views/saliency_view.h"
#include "views/token_selection.h"

#include <QCursor>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QTabWidget>
#include <QVBoxLayout>

namespace spyglass::ui {

namespace {

QString tokenLabel(const core::Report& report, int position)
{
    const core::ReportToken& t = report.tokens.at(static_cast<size_t>(position));
    return t.text ? QString::fromStdString(*t.text) : QString::number(t.id);
}

const QStringList kViewNames{QStringLiteral("saliency"),  QStringLiteral("lens"),
                             QStringLiteral("factors"),   QStringLiteral("projection"),
                             QStringLiteral("attention"), QStringLiteral("interventions")};

}  // namespace

LanguagePage::LanguagePage(RunController* controller, QWidget* parent)
    : Page(parent),
      m_controller(controller),
      m_selection(new TokenSelection(this)),
      m_modelPath(new LanguageModelPath),
      m_prompt(new QPlainTextEdit),
      m_run(new QPushButton(tr("Run"))),
      m_output(new QLabel),
      m_stack(new QStackedWidget),
      m_views(new QTabWidget),
      m_saliency(new SaliencyView(m_selection)),
      m_lens(new LensView(m_selection)),
      m_factors(new FactorsView(m_selection)),
      m_projection(new ProjectionView(m_selection)),
      m_attention(new AttentionView(m_selection)),
      m_diff(new InterventionDiffView(m_selection)),
      m_settings(new AnalysisSettingsPanel)
{
    auto* modelRow = new QHBoxLayout;
    modelRow->addWidget(new QLabel(tr("Model:")));
    modelRow->addWidget(m_modelPath, 1);
    m_prompt->setPlaceholderText(tr("Type a prompt, then press Run (Ctrl+Return)"));
    m_prompt->setMaximumHeight(90);
    m_run->setToolTip(tr("Generate and explain every token with the settings on the right (Ctrl+Return)"));
    m_output->setWordWrap(true);
    m_output->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_views->addTab(m_saliency, tr("Saliency"));
    m_views->addTab(m_lens, tr("Logit lens"));
    m_views->addTab(m_factors, tr("Factors"));
    m_views->addTab(m_projection, tr("Activation map"));
    m_views->addTab(m_attention, tr("Attention"));
    m_views->addTab(m_diff, tr("Δ Interventions"));
    m_stack->addWidget(buildEmptyState());
    m_stack->addWidget(m_views);

    auto* promptRow = new QHBoxLayout;
    promptRow->addWidget(m_prompt, 1);
    promptRow->addWidget(m_run, 0, Qt::AlignTop);
    auto* left = new QWidget;
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addLayout(modelRow);
    leftLayout->addLayout(promptRow);
    leftLayout->addWidget(m_output);
    leftLayout->addWidget(m_stack, 1);
    auto* splitter = new QSplitter;
    splitter->addWidget(left);
    splitter->addWidget(m_settings);
    splitter->setStretchFactor(0, 4);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(splitter);

    connect(m_run, &QPushButton::clicked, this, &LanguagePage::run);
    connect(m_factors, &FactorsView::recomputeRequested, this, [this](int k, int first, int end) {
        if (m_controller->busy()) return;
        if (m_controller->recomputeFactors(k, first, end, static_cast<uint64_t>(m_settings->settings().seed)))
            m_factors->setRecomputing(true);
    });
    connect(m_projection, &ProjectionView::reprojectRequested, this, [this](int layer, core::ProjectionSource source) {
        if (m_controller->busy()) return;
        if (m_controller->reproject(layer, source, static_cast<uint64_t>(m_settings->settings().seed)))
            m_projection->setRecomputing(true);
    });
    connect(m_controller, &RunController::runStarted, this, [this] { m_run->setEnabled(false); });
    connect(m_controller, &RunController::runFinished, this, [this] {
        m_run->setEnabled(true);
        m_factors->setRecomputing(false);
        m_projection->setRecomputing(false);
    });
    // The attention of the selected token is computed when the Attention view shows (one forward
    // pass over the context up to it, in the worker; the newest selection wins).
    auto requestAttention = [this] {
        if (m_views->currentWidget() == m_attention && m_selection->position() >= 0)
            m_controller->requestAttention(m_selection->position());
    };
    connect(m_selection, &TokenSelection::positionChanged, this, requestAttention);
    connect(m_views, &QTabWidget::currentChanged, this, requestAttention);
    connect(m_controller, &RunController::attentionReady, this, [this](const AttentionOutcomePtr& outcome) {
        m_attention->setAttention(outcome->position, outcome->weights);
    });
    // The steering slider and the intervention list re-run in the background: a newer setting
    // supersedes a run still going.
    connect(m_settings, &AnalysisSettingsPanel::steeringChanged, this, &LanguagePage::rerunInBackground);
    connect(m_settings, &AnalysisSettingsPanel::interventionsChanged, this, &LanguagePage::rerunInBackground);
    connect(m_lens, &LensView::ablationRequested, this, &LanguagePage::ablateAndRerun);
    connect(m_attention, &AttentionView::ablationRequested, this, &LanguagePage::ablateAndRerun);
    connect(m_factors, &FactorsView::factorAblationRequested, this, &LanguagePage::ablateFactorAndRerun);
    connect(m_factors, &FactorsView::ablationRequested, this, &LanguagePage::ablateAndRerun);
    connect(m_controller, &RunController::diffChanged, m_diff, &InterventionDiffView::setDiff);
    connect(m_controller, &RunController::reportUpdated, this, &LanguagePage::onUpdate);
    connect(m_controller, &RunController::reportChanged, this, &LanguagePage::onReport);
}

void LanguagePage::rerunInBackground()
{
    if (!m_controller->report() || prompt().isEmpty()) return;
    if (m_controller->busy() && m_controller->running() != RunController::RunKind::Analysis) return;
    if (m_controller->analyze(modelPath(), prompt(), settings().options()))
        emit analysisSubmitted(modelPath(), prompt());
}

void LanguagePage::ablateAndRerun(const QString& spec)
{
    {
        const QSignalBlocker quiet(m_settings->interventionList());  // one run, below
        m_settings->interventionList()->add(spec.toStdString());
    }
    emit message(tr("Ablating %1: the Δ Interventions tab shows what changed").arg(spec));
    rerunInBackground();
}

void LanguagePage::ablateFactorAndRerun(int factor)
{
    const ReportPtr& report = m_controller->report();
    if (!report || !report->factors) return;
    const QString folder =
        QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + QStringLiteral("/factor-loadings");
    const QString file = folder + QStringLiteral("/%1-%2.safetensors")
                                      .arg(QString::fromStdString(report->model.sha256.substr(0, 12)))
                                      .arg(QDateTime::currentMSecsSinceEpoch());
    try {
        if (!QDir().mkpath(folder)) throw core::Error(folder.toStdString() + ": cannot create the folder");
        core::writeFactorLoadings(*report, file.toStdString());
    } catch (const std::exception& e) {
        emit message(tr("Cannot save the factor loadings: %1").arg(QString::fromUtf8(e.what())));
        return;
    }
    ablateAndRerun(QStringLiteral("factor:%1:%2").arg(factor).arg(file));
}

QWidget* LanguagePage::buildEmptyState()
{
    auto* box = new QWidget;
    auto* layout = new QVBoxLayout(box);
    auto* hint =
        new QLabel(tr("<h3>Nothing analysed yet</h3>"
                      "<p>Type a prompt above and press <b>Run</b> (Ctrl+Return): the model generates a few tokens and "
                      "every view fills in as it goes — which earlier tokens each new token came from (Saliency), what "
                      "each layer would have said (Logit lens), which groups of neurons handle which tokens (Factors) "
                      "and how the model groups tokens (Activation map).</p><p>Or start from an example:</p>"));
    hint->setWordWrap(true);
    hint->setTextFormat(Qt::RichText);
    layout->addWidget(hint);
    for (const ExamplePrompt& example : examplePrompts()) {
        auto* button = new QPushButton(example.title);
        button->setToolTip(example.lookAt);
        button->setStyleSheet(QStringLiteral("text-align: left; padding: 4px 10px;"));
        connect(button, &QPushButton::clicked, this, [this, example] {
            useExample(example);
            run();
        });
        layout->addWidget(button);
    }
    layout->addStretch(1);
    return box;
}

void LanguagePage::setModelPath(const QString& path)
{
    m_modelPath->setPath(path);
}
QString LanguagePage::modelPath() const
{
    return m_modelPath->path();
}
void LanguagePage::setPrompt(const QString& prompt)
{
    m_prompt->setPlainText(prompt);
}
QString LanguagePage::prompt() const
{
    return m_prompt->toPlainText();
}
AnalysisSettings LanguagePage::settings() const
{
    return m_settings->settings();
}
void LanguagePage::setSettings(const AnalysisSettings& settings)
{
    m_settings->setSettings(settings);
}
QString LanguagePage::outputText() const
{
    return m_output->text();
}
QString LanguagePage::modelInfoText() const
{
    return m_settings->modelInfo();
}
bool LanguagePage::showsEmptyState() const
{
    return m_stack->currentIndex() == 0;
}
QString LanguagePage::currentViewName() const
{
    return kViewNames.value(m_views->currentIndex());
}

void LanguagePage::showView(int index)
{
    m_stack->setCurrentWidget(m_views);
    m_views->setCurrentIndex(index);
}

void LanguagePage::useExample(const ExamplePrompt& example)
{
    setPrompt(example.prompt);
    AnalysisSettings s = settings();
    s.maxNewTokens = example.maxNewTokens;
    setSettings(s);
    emit message(example.lookAt);
}

void LanguagePage::run()
{
    if (m_controller->busy()) return;
    if (m_controller->analyze(modelPath(), prompt(), settings().options()))
        emit analysisSubmitted(modelPath(), prompt());
}

void LanguagePage::onUpdate(const ReportPtr& live, const core::ReportUpdate& update)
{
    if (const auto* started = std::get_if<core::AnalysisStarted>(&update)) {
        m_stack->setCurrentWidget(m_views);
        QStringList methods;
        for (const auto& s : started->saliency)
            methods << QString::fromStdString(core::nameString(s.method) + " (" + core::nameString(s.target) + ")");
        QStringList tokens;
        for (int p = 0; p < static_cast<int>(live->tokens.size()); ++p) tokens << tokenLabel(*live, p);
        m_saliency->startLive(methods, tokens);
        m_output->setText(tokens.join(QString()).toHtmlEscaped());
    } else if (const auto* token = std::get_if<core::TokenGenerated>(&update)) {
        const QString text =
            token->token.text ? QString::fromStdString(*token->token.text) : QString::number(token->token.id);
        m_output->setText(m_output->text() + QStringLiteral("<b>%1</b>").arg(text.toHtmlEscaped()));
    } else if (const auto* row = std::get_if<core::SaliencyRowReady>(&update)) {
        m_saliency->addLiveRow(static_cast<int>(row->section), tokenLabel(*live, row->row.position), row->row);
    } else if (std::holds_alternative<core::LensColumnReady>(update)) {
        m_lens->setReport(live);  // the table re-reads the live report: each column costs one reset
    }
}

void LanguagePage::onReport(const ReportPtr& report)
{
    m_stack->setCurrentWidget(m_views);
    const core::ReportModel& m = report->model;
    m_settings->setModelInfo(tr("%1\n%2 layers · %3 heads · d_model %4 · vocabulary %5\nsha256 %6…")
                                 .arg(QString::fromStdString(m.architecture))
                                 .arg(m.layerCount)
                                 .arg(m.headCount)
                                 .arg(m.modelWidth)
                                 .arg(m.vocabSize)
                                 .arg(QString::fromStdString(m.sha256.substr(0, 12))));
    m_saliency->setReport(report);
    m_lens->setReport(report);
    m_factors->setReport(report);
    m_projection->setReport(report);
    m_attention->setReport(report);
    QString text;
    for (int p = 0; p < static_cast<int>(report->tokens.size()); ++p) {
        const QString piece = tokenLabel(*report, p).toHtmlEscaped();
        text += report->tokens[static_cast<size_t>(p)].generated ? QStringLiteral("<b>%1</b>").arg(piece) : piece;
    }
    m_output->setText(text);
    if (m_selection->position() < 0 && !report->saliency.empty() && !report->saliency.front().rows.empty())
        m_selection->select(report->saliency.front().rows.front().position);
}

QString LanguagePage::exportView(const QString& path, int dpi)
{
    const ReportPtr& report = m_controller->report();
    if (!report) return tr("%1: run an analysis first").arg(path);
    QWidget* view = m_views->currentWidget();
    if (QFileInfo(path).suffix().toLower() == QLatin1String("csv")) {
        if (view == m_saliency) return exportText(m_saliency->toCsv(), path);
        if (view == m_lens) return exportText(m_lens->model()->toCsv(), path);
        if (view == m_factors) return exportText(m_factors->toCsv(), path);
        if (view == m_attention) return exportText(m_attention->toCsv(), path);
        if (view == m_diff) return exportText(m_diff->toCsv(), path);
        return exportText(m_projection->toCsv(), path);
    }
    return exportFigure(view, path, dpi, figureCaption(*report, currentViewName()));
}

QImage LanguagePage::viewImage()
{
    const ReportPtr& report = m_controller->report();
    return renderFigure(m_views->currentWidget(), 150,
                        report ? figureCaption(*report, currentViewName()) : FigureCaption{});
}

}  // namespace spyglass::ui
