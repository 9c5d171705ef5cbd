#include "runtime_bar.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>
#include <QStandardItemModel>

namespace spyglass::ui {

RuntimeBar::RuntimeBar(QWidget* parent) : QWidget(parent), m_device(new QComboBox), m_threads(new QSpinBox)
{
    m_device->addItem(QStringLiteral("CPU"), QStringLiteral("cpu"));
    m_device->addItem(QStringLiteral("CUDA"), QStringLiteral("cuda"));
    if (!core::cudaAvailable()) {
        if (auto* items = qobject_cast<QStandardItemModel*>(m_device->model())) items->item(1)->setEnabled(false);
        m_device->setItemData(1, tr("This libtorch build has no CUDA, or no GPU is visible"), Qt::ToolTipRole);
    }
    m_threads->setRange(1, 256);
    m_threads->setToolTip(tr("libtorch and BLAS threads of each run"));
    setSettings(RunSettings{});
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 0, 4, 0);
    layout->addWidget(new QLabel(tr("Device")));
    layout->addWidget(m_device);
    layout->addWidget(new QLabel(tr("Threads")));
    layout->addWidget(m_threads);
    connect(m_device, &QComboBox::currentIndexChanged, this, [this] { emit changed(settings()); });
    connect(m_threads, &QSpinBox::valueChanged, this, [this] { emit changed(settings()); });
}

RunSettings RuntimeBar::settings() const
{
    return {m_device->currentData().toString(), m_threads->value()};
}

void RuntimeBar::setSettings(const RunSettings& settings)
{
    m_device->setCurrentIndex(std::max(0, m_device->findData(settings.device)));
    m_threads->setValue(settings.threads);
}

}  // namespace spyglass::ui
