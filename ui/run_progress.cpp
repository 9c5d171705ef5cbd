#include "run_progress.h"

#include "run_controller.h"

#include <QHBoxLayout>
#include <QProgressBar>
#include <QPushButton>

namespace spyglass::ui {

RunProgress::RunProgress(RunController* controller, QWidget* parent)
    : QWidget(parent), m_bar(new QProgressBar), m_cancel(new QPushButton(tr("Cancel")))
{
    m_bar->setMinimumWidth(260);
    m_bar->setRange(0, 1);
    m_bar->setValue(0);
    m_bar->setFormat(tr("ready"));
    m_cancel->setEnabled(false);
    m_cancel->setToolTip(tr("Stop the run (Esc)"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_bar);
    layout->addWidget(m_cancel);
    connect(m_cancel, &QPushButton::clicked, controller, &RunController::cancel);
    auto show = [this](const QString& format, int done, int total) {
        m_bar->setRange(0, std::max(total, 0));
        m_bar->setValue(done);
        m_bar->setFormat(format);
    };
    connect(controller, &RunController::runStarted, this, [this, show] {
        m_cancel->setEnabled(true);
        show(tr("starting"), 0, 0);
    });
    connect(controller, &RunController::progressed, this, [show](const QString& stage, int done, int total) {
        show(total > 1 ? QStringLiteral("%1 %2/%3").arg(stage).arg(done).arg(total) : stage, done, total);
    });
    connect(controller, &RunController::runFinished, this, [this] { m_cancel->setEnabled(false); });
    connect(controller, &RunController::reportChanged, this, [show] { show(tr("done"), 1, 1); });
    connect(controller, &RunController::imageReady, this, [show] { show(tr("done"), 1, 1); });
    connect(controller, &RunController::labReady, this, [show] { show(tr("done"), 1, 1); });
    connect(controller, &RunController::failed, this, [show] { show(tr("failed"), 0, 1); });
    connect(controller, &RunController::cancelled, this, [show] { show(tr("cancelled"), 0, 1); });
    connect(controller, &RunController::notice, this, [this](const QString& text) { m_bar->setFormat(text); });
}

QString RunProgress::text() const
{
    return m_bar->format();
}

}  // namespace spyglass::ui
