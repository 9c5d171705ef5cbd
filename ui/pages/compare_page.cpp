#include "pages/compare_page.h"

#include "pages/language_model_path.h"
#include "run_controller.h"
#include "views/ab_compare_view.h"
#include "views/figure_export.h"

#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

namespace spyglass::ui {

ComparePage::ComparePage(RunController* controller, std::function<AnalysisSettings()> settings, QWidget* parent)
    : Page(parent),
      m_controller(controller),
      m_settings(std::move(settings)),
      m_modelPath(new LanguageModelPath),
      m_a(new QLineEdit),
      m_b(new QLineEdit),
      m_run(new QPushButton(tr("Run"))),
      m_summary(new QLabel),
      m_scroll(new QScrollArea),
      m_view(new AbCompareView)
{
    m_a->setPlaceholderText(tr("prompt A, e.g. “The doctor said that”"));
    m_b->setPlaceholderText(tr("prompt B, e.g. “The nurse said that”"));
    m_run->setToolTip(tr("Run both prompts with the Language model tab's settings (Ctrl+Return)"));
    auto* form = new QFormLayout;
    form->addRow(tr("Model"), m_modelPath);
    form->addRow(tr("A"), m_a);
    form->addRow(tr("B"), m_b);
    form->addRow(QString(), m_run);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setText(
        tr("Both prompts run with the same settings; tokens are aligned by the longest common "
           "subsequence, and the factors are fitted on both runs together, so factor k is the same "
           "on both sides. Outlined columns are where the prompts differ."));
    m_scroll->setWidget(m_view);
    m_scroll->setWidgetResizable(true);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_summary);
    layout->addWidget(m_scroll, 1);

    connect(m_run, &QPushButton::clicked, this, &ComparePage::runPage);
    connect(m_controller, &RunController::compareReady, this, &ComparePage::setComparison);
    connect(m_controller, &RunController::runStarted, this, [this] { m_run->setEnabled(false); });
    connect(m_controller, &RunController::runFinished, this, [this] { m_run->setEnabled(true); });
}

void ComparePage::setModelPath(const QString& path)
{
    m_modelPath->setPath(path);
}

void ComparePage::setPrompts(const QString& a, const QString& b)
{
    m_a->setText(a);
    m_b->setText(b);
}

QString ComparePage::summary() const
{
    return m_summary->text();
}

void ComparePage::runPage()
{
    if (m_controller->busy()) return;
    if (m_a->text().isEmpty() || m_b->text().isEmpty()) {
        emit message(tr("Type both prompts first"));
        return;
    }
    core::AnalysisOptions options = m_settings().options();
    options.projection = false;
    m_controller->compare(m_modelPath->path(), m_a->text(), m_b->text(), options);
}

void ComparePage::setComparison(const ComparisonPtr& comparison)
{
    m_view->setComparison(comparison);
    int differing = 0;
    for (const core::TokenPair& p : comparison->alignment)
        if (p.a < 0 || p.b < 0) ++differing;
    auto generated = [](const core::Report& r) {
        QString text;
        for (const auto& t : r.tokens)
            if (t.generated) text += t.text ? QString::fromStdString(*t.text) : QStringLiteral("#%1").arg(t.id);
        return text.toHtmlEscaped();
    };
    m_summary->setText(
        tr("<b>A</b> continues “%1” · <b>B</b> continues “%2” · %3 of %4 aligned columns differ%5")
            .arg(generated(comparison->a), generated(comparison->b))
            .arg(differing)
            .arg(comparison->alignment.size())
            .arg(comparison->factors ? tr(" · %1 joint factors").arg(comparison->factors->k) : QString()));
}

QString ComparePage::exportView(const QString& path, int dpi)
{
    if (!m_view->comparison()) return tr("%1: run a comparison first").arg(path);
    if (QFileInfo(path).suffix().toLower() == QLatin1String("csv")) return exportText(m_view->toCsv(), path);
    m_view->resize(m_view->sizeHint().expandedTo(m_view->size()));
    return exportFigure(m_view, path, dpi, caption());
}

QImage ComparePage::viewImage()
{
    return renderFigure(m_view, 150, caption());
}

FigureCaption ComparePage::caption() const
{
    FigureCaption c;
    c.title = tr("A/B comparison");
    if (const ComparisonPtr& comparison = m_view->comparison())
        c.subtitle = tr("%1 · A “%2” · B “%3”")
                         .arg(QString::fromStdString(comparison->a.model.architecture), m_a->text(), m_b->text());
    return c;
}

}  // namespace spyglass::ui
