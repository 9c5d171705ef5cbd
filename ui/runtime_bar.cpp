#include "runtime_bar.h"

#include "remote_dialog.h"

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
    m_device->addItem(tr("Remote (SSH)…"), QStringLiteral("remote"));
    m_device->setItemData(2, tr("Run analyses and images on a server: ssh HOST spyglass-cli serve --stdio"),
                          Qt::ToolTipRole);
    m_threads->setRange(1, 256);
    m_threads->setToolTip(tr("libtorch and BLAS threads of each run"));
    setSettings(RunSettings{});
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 0, 4, 0);
    layout->addWidget(new QLabel(tr("Device")));
    layout->addWidget(m_device);
    layout->addWidget(new QLabel(tr("Threads")));
    layout->addWidget(m_threads);
    // activated: also when "Remote" is chosen again (to edit the server)
    connect(m_device, &QComboBox::activated, this, [this](int index) {
        if (m_device->itemData(index).toString() == QStringLiteral("remote"))
            chooseRemote();
        else
            m_previous = index;
    });
    connect(m_device, &QComboBox::currentIndexChanged, this, [this] { emit changed(settings()); });
    connect(m_threads, &QSpinBox::valueChanged, this, [this] { emit changed(settings()); });
}

RunSettings RuntimeBar::settings() const
{
    return {m_device->currentData().toString(), m_threads->value(), m_remote};
}

void RuntimeBar::setSettings(const RunSettings& settings)
{
    m_remote = settings.remote;
    showRemote();
    m_device->setCurrentIndex(std::max(0, m_device->findData(settings.device)));
    m_threads->setValue(settings.threads);
}

void RuntimeBar::chooseRemote()
{
    const int remote = m_device->findData(QStringLiteral("remote"));
    if (const auto target = RemoteDialog::ask(m_remote, this)) {
        m_remote = *target;
        showRemote();
        m_previous = remote;
        emit changed(settings());  // also when the index stayed (another server)
    } else {
        m_device->setCurrentIndex(m_previous == remote && m_remote.host.isEmpty() ? 0 : m_previous);
    }
}

void RuntimeBar::showRemote()
{
    const int remote = m_device->findData(QStringLiteral("remote"));
    m_device->setItemText(remote,
                          m_remote.host.isEmpty() ? tr("Remote (SSH)…") : tr("Remote: %1").arg(m_remote.label()));
}

}  // namespace spyglass::ui
