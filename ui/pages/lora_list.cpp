#include "pages/lora_list.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace spyglass::ui {

LoraList::LoraList(QWidget* parent) : QWidget(parent), m_rowsLayout(new QVBoxLayout)
{
    auto* add = new QPushButton(tr("Add LoRA…"));
    add->setToolTip(tr("A kohya-format LoRA (.safetensors), merged into the UNet and text encoders at its strength"));
    auto* header = new QHBoxLayout;
    header->addWidget(new QLabel(tr("LoRAs:")));
    header->addWidget(add);
    header->addStretch(1);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(header);
    layout->addLayout(m_rowsLayout);
    connect(add, &QPushButton::clicked, this, [this] {
        const QStringList files =
            QFileDialog::getOpenFileNames(this, tr("Add LoRA"), QString(), tr("LoRA (*.safetensors)"));
        for (const QString& f : files) addLora(f);
    });
}

std::vector<core::DiffusionLoadOptions::Lora> LoraList::loras() const
{
    std::vector<core::DiffusionLoadOptions::Lora> out;
    for (const Row& r : m_rows) out.push_back({r.path.toStdString(), r.slider->value() / 100.0});
    return out;
}

void LoraList::addLora(const QString& path, double strength)
{
    const int value = static_cast<int>(std::lround(std::clamp(strength, 0.0, 2.0) * 100));
    for (Row& r : m_rows) {
        if (r.path == path) {
            r.slider->setValue(value);
            return;
        }
    }
    auto* row = new QWidget;
    auto* slider = new QSlider(Qt::Horizontal);
    slider->setRange(0, 200);
    slider->setValue(value);
    slider->setToolTip(tr("Strength: W + strength · (alpha / rank) · up · down"));
    auto* label = new QLabel(QFileInfo(path).completeBaseName());
    label->setToolTip(path);
    auto* shown = new QLabel;
    shown->setMinimumWidth(36);
    auto* removeButton = new QPushButton(tr("✕"));
    removeButton->setToolTip(tr("Remove this LoRA"));
    removeButton->setMaximumWidth(28);
    auto* h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    h->addWidget(label, 1);
    h->addWidget(slider, 2);
    h->addWidget(shown);
    h->addWidget(removeButton);
    const auto show = [shown](int v) { shown->setText(QString::number(v / 100.0, 'f', 2)); };
    show(value);
    connect(slider, &QSlider::valueChanged, this, [this, show](int v) {
        show(v);
        emit changed();
    });
    connect(removeButton, &QPushButton::clicked, this, [this, row] { remove(row); });
    m_rowsLayout->addWidget(row);
    m_rows.push_back({path, row, slider});
    emit changed();
}

void LoraList::remove(QWidget* row)
{
    const auto it = std::find_if(m_rows.begin(), m_rows.end(), [row](const Row& r) { return r.widget == row; });
    if (it == m_rows.end()) return;
    m_rows.erase(it);
    row->deleteLater();
    emit changed();
}

void LoraList::clear()
{
    for (Row& r : m_rows) r.widget->deleteLater();
    m_rows.clear();
    emit changed();
}

}  // namespace spyglass::ui
