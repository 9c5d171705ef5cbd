#include "pages/patching_page.h"

#include "pages/language_model_path.h"
#include "run_controller.h"
#include "views/figure_export.h"
#include "views/plot_helpers.h"
#include "views/token_strip.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSplitter>
#include <QVBoxLayout>

#include <cmath>
#include <sstream>

namespace spyglass::ui {

namespace {

constexpr core::PatchSite kSites[] = {core::PatchSite::ResidPre, core::PatchSite::AttnOut, core::PatchSite::MlpOut,
                                      core::PatchSite::Head};

QString quoted(const QString& text)
{
    return QStringLiteral("“%1”").arg(text);
}

}  // namespace

PatchingPage::PatchingPage(RunController* controller, QWidget* parent)
    : Page(parent),
      m_controller(controller),
      m_modelPath(new LanguageModelPath),
      m_clean(new QLineEdit),
      m_corrupt(new QLineEdit),
      m_answer(new QLineEdit),
      m_wrong(new QLineEdit),
      m_site(new QComboBox),
      m_interventions(new QLineEdit),
      m_run(new QPushButton(tr("Run"))),
      m_summary(new QLabel),
      m_plot(new QCustomPlot),
      m_cell(new QLabel)
{
    m_clean->setPlaceholderText(tr("the clean prompt, e.g. “The Eiffel Tower is in the city of”"));
    m_corrupt->setPlaceholderText(tr("the corrupt prompt, the same number of tokens"));
    m_answer->setPlaceholderText(tr("one token (“ Paris”) or #ID"));
    m_wrong->setPlaceholderText(tr("one token (“ Rome”) or #ID"));
    m_interventions->setPlaceholderText(tr("none — e.g. head:0:1 (applied to every run)"));
    for (core::PatchSite site : kSites)
        m_site->addItem(QString::fromStdString(core::patchSiteName(site)), static_cast<int>(site));
    m_site->setToolTip(
        tr("resid_pre: the residual stream entering the layer at one position; attn_out / mlp_out: "
           "the attention / MLP output at one position; head: one head's output at every position"));
    auto* form = new QFormLayout;
    form->addRow(tr("Model"), m_modelPath);
    form->addRow(tr("Clean"), m_clean);
    form->addRow(tr("Corrupt"), m_corrupt);
    form->addRow(tr("Answer"), m_answer);
    form->addRow(tr("Wrong"), m_wrong);
    form->addRow(tr("Site"), m_site);
    form->addRow(tr("Interventions"), m_interventions);
    form->addRow(QString(), m_run);
    auto* explain =
        new QLabel(tr("Each cell copies the clean run's activation at that layer and position into the corrupt run. "
                      "Effect = (m − m_corrupt) / (m_clean − m_corrupt), m = logit[answer] − logit[wrong] at the last "
                      "position: 1 restores the clean answer, 0 changes nothing."));
    explain->setWordWrap(true);
    form->addRow(explain);
    auto* left = new QWidget;
    left->setLayout(form);

    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_cell->setWordWrap(true);
    m_cell->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_plot->setMinimumSize(360, 260);
    m_plot->axisRect()->setupFullAxesBox(true);
    m_plot->yAxis->setRangeReversed(true);
    m_plot->yAxis->setLabel(tr("layer"));
    m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    m_map->setInterpolate(false);
    auto* scale = new QCPColorScale(m_plot);
    m_plot->plotLayout()->addElement(0, 1, scale);
    scale->setLabel(tr("effect"));
    m_map->setColorScale(scale);
    m_map->setGradient(divergingGradient());
    auto* margins = new QCPMarginGroup(m_plot);
    m_plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    auto* right = new QWidget;
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->addWidget(m_summary);
    rightLayout->addWidget(m_plot, 1);
    rightLayout->addWidget(m_cell);
    auto* split = new QSplitter;
    split->addWidget(left);
    split->addWidget(right);
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(split);
    m_summary->setText(tr("Run to patch every layer and position."));

    connect(m_run, &QPushButton::clicked, this, &PatchingPage::runPage);
    connect(m_controller, &RunController::patchReady, this, &PatchingPage::setOutcome);
    connect(m_controller, &RunController::runStarted, this, [this] { m_run->setEnabled(false); });
    connect(m_controller, &RunController::runFinished, this, [this] { m_run->setEnabled(true); });
    connect(m_plot, &QCustomPlot::mousePress, this, [this](QMouseEvent* e) {
        const int column = static_cast<int>(std::lround(m_plot->xAxis->pixelToCoord(e->position().x())));
        const int layer = static_cast<int>(std::lround(m_plot->yAxis->pixelToCoord(e->position().y())));
        selectCell(layer, column);
    });
}

PatchRequest PatchingPage::request() const
{
    PatchRequest r;
    r.modelPath = m_modelPath->path();
    r.clean = m_clean->text();
    r.corrupt = m_corrupt->text();
    r.answer = m_answer->text();
    r.wrong = m_wrong->text();
    r.site = static_cast<core::PatchSite>(m_site->currentData().toInt());
    std::istringstream specs(m_interventions->text().toStdString());
    for (std::string spec; specs >> spec;) r.interventions.push_back(spec);
    return r;
}

void PatchingPage::runPage()
{
    if (m_controller->busy()) return;
    m_controller->runPatch(request());
}

void PatchingPage::setModelPath(const QString& path)
{
    m_modelPath->setPath(path);
}

void PatchingPage::setPrompts(const QString& clean, const QString& corrupt, const QString& answer, const QString& wrong)
{
    m_clean->setText(clean);
    m_corrupt->setText(corrupt);
    m_answer->setText(answer);
    m_wrong->setText(wrong);
}

void PatchingPage::setSite(core::PatchSite site)
{
    m_site->setCurrentIndex(std::max(0, m_site->findData(static_cast<int>(site))));
}

void PatchingPage::setInterventions(const QString& specs)
{
    m_interventions->setText(specs);
}

QString PatchingPage::columnLabel(int column) const
{
    if (!m_outcome) return {};
    if (m_outcome->result.site == core::PatchSite::Head) return QStringLiteral("H%1").arg(column);
    return column < m_outcome->cleanTokens.size() ? TokenStrip::label(m_outcome->cleanTokens[column]) : QString();
}

void PatchingPage::setOutcome(const PatchOutcomePtr& outcome)
{
    m_outcome = outcome;
    if (!outcome) return;
    const core::PatchResult& r = outcome->result;
    const int layers = static_cast<int>(r.layers.size());
    const int columns = static_cast<int>(r.positions.size());
    const bool heads = r.site == core::PatchSite::Head;
    m_map->data()->setSize(columns, layers);
    m_map->data()->setRange(QCPRange(0, columns - 1), QCPRange(0, layers - 1));
    double extent = 1;
    for (int l = 0; l < layers; ++l)
        for (int c = 0; c < columns; ++c) {
            const double e = r.effect[static_cast<size_t>(l)][static_cast<size_t>(c)];
            m_map->data()->setCell(c, l, e);
            if (std::isfinite(e)) extent = std::max(extent, std::abs(e));
        }
    m_map->setDataRange(QCPRange(-extent, extent));
    QSharedPointer<QCPAxisTickerText> xTicks(new QCPAxisTickerText), yTicks(new QCPAxisTickerText);
    for (int c = 0; c < columns; ++c) xTicks->addTick(c, columnLabel(c));
    for (int l = 0; l < layers; ++l) yTicks->addTick(l, QString::number(r.layers[static_cast<size_t>(l)]));
    m_plot->xAxis->setTicker(xTicks);
    m_plot->yAxis->setTicker(yTicks);
    m_plot->xAxis->setTickLabelRotation(columns > 16 ? 60 : 0);
    m_plot->xAxis->setLabel(heads ? tr("head (its output at every position)") : tr("position (clean token)"));
    m_plot->xAxis->setRange(-0.5, columns - 0.5);
    m_plot->yAxis->setRange(-0.5, layers - 0.5);
    m_plot->replot();
    m_summary->setText(tr("%1 · site %2 · answer %3 vs wrong %4 · m_clean = %5, m_corrupt = %6")
                           .arg(outcome->architecture, QString::fromStdString(core::patchSiteName(r.site)),
                                quoted(outcome->answerText), quoted(outcome->wrongText))
                           .arg(r.cleanMetric, 0, 'f', 4)
                           .arg(r.corruptMetric, 0, 'f', 4));
    m_cell->setText(tr("Click a cell to see that patched run."));
    emit message(tr("Patched %1 layers × %2 %3").arg(layers).arg(columns).arg(heads ? tr("heads") : tr("positions")));
}

bool PatchingPage::selectCell(int layer, int column)
{
    if (!m_outcome) return false;
    const core::PatchResult& r = m_outcome->result;
    if (layer < 0 || layer >= static_cast<int>(r.layers.size()) || column < 0 ||
        column >= static_cast<int>(r.positions.size()))
        return false;
    const double effect = r.effect[static_cast<size_t>(layer)][static_cast<size_t>(column)];
    const double metric = r.metric[static_cast<size_t>(layer)][static_cast<size_t>(column)];
    QString where;
    if (r.site == core::PatchSite::Head) {
        where = tr("layer %1, head %2 (every position)").arg(r.layers[static_cast<size_t>(layer)]).arg(column);
    } else {
        const QString corrupt =
            column < m_outcome->corruptTokens.size() ? TokenStrip::label(m_outcome->corruptTokens[column]) : QString();
        where = tr("layer %1, position %2: clean %3, corrupt %4")
                    .arg(r.layers[static_cast<size_t>(layer)])
                    .arg(column)
                    .arg(quoted(columnLabel(column)), quoted(corrupt));
    }
    m_cell->setText(tr("%1\neffect %2 · patched m = %3 (clean %4, corrupt %5) · the whole layer at once: %6")
                        .arg(where)
                        .arg(effect, 0, 'f', 4)
                        .arg(metric, 0, 'f', 4)
                        .arg(r.cleanMetric, 0, 'f', 4)
                        .arg(r.corruptMetric, 0, 'f', 4)
                        .arg(r.wholeLayerEffect[static_cast<size_t>(layer)], 0, 'f', 4));
    return true;
}

QString PatchingPage::cellText() const
{
    return m_cell->text();
}

QString PatchingPage::exportView(const QString& path, int dpi)
{
    if (!m_outcome) return tr("%1: nothing to export yet (run the patching first)").arg(path);
    const core::PatchResult& r = m_outcome->result;
    if (path.endsWith(QStringLiteral(".csv"), Qt::CaseInsensitive)) {
        QString csv = QStringLiteral("site,layer,%1,token,effect,patched_metric\n")
                          .arg(r.site == core::PatchSite::Head ? QStringLiteral("head") : QStringLiteral("position"));
        for (size_t l = 0; l < r.layers.size(); ++l)
            for (size_t c = 0; c < r.positions.size(); ++c)
                csv += QStringLiteral("%1,%2,%3,%4,%5,%6\n")
                           .arg(QString::fromStdString(core::patchSiteName(r.site)))
                           .arg(r.layers[l])
                           .arg(c)
                           .arg(csvField(columnLabel(static_cast<int>(c))))
                           .arg(r.effect[l][c], 0, 'g', 9)
                           .arg(r.metric[l][c], 0, 'g', 9);
        return exportText(csv, path);
    }
    FigureCaption caption;
    caption.title = tr("Activation patching — %1").arg(QString::fromStdString(core::patchSiteName(r.site)));
    caption.subtitle =
        tr("%1 · clean %2 → corrupt %3 · answer %4 vs %5 · Spyglass")
            .arg(m_outcome->architecture, quoted(m_outcome->request.clean), quoted(m_outcome->request.corrupt),
                 quoted(m_outcome->answerText), quoted(m_outcome->wrongText));
    return exportFigure(m_plot, path, dpi, caption);
}

QImage PatchingPage::viewImage()
{
    return renderFigure(m_plot);
}

}  // namespace spyglass::ui
