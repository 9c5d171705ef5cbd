#include "pages/intervention_list.h"

#include <QHBoxLayout>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

namespace spyglass::ui {

InterventionList::InterventionList(QWidget* parent) : QWidget(parent), m_list(new QListWidget), m_input(new QLineEdit)
{
    m_list->setFixedHeight(84);
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
    m_list->setToolTip(tr("Checked interventions apply to the next run; uncheck one to compare without it"));
    m_input->setPlaceholderText(tr("add: head:0:1,2 neuron:1:7*2 mlp:1@5 …"));
    m_input->setToolTip(
        tr("neuron:L:N[,N…] and head:L:H[,H…] zero MLP neurons / attention heads (=V sets, *S scales, @P,… only "
           "those positions); attn:L and mlp:L a block's attention / MLP output; factor:K:FILE an NMF factor of "
           "a saved report; steer:L:FILE:ALPHA adds ALPHA × the vector in FILE to resid_pre.L. Enter adds."));
    auto* remove = new QPushButton(tr("Remove"));
    remove->setToolTip(tr("Remove the selected intervention"));
    auto* row = new QHBoxLayout;
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(m_input, 1);
    row->addWidget(remove);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_list);
    layout->addLayout(row);
    connect(m_input, &QLineEdit::returnPressed, this, [this] {
        const QStringList specs = m_input->text().split(QLatin1Char(' '), Qt::SkipEmptyParts);
        for (const QString& spec : specs) add(spec.toStdString());
        m_input->clear();
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        if (m_list->currentRow() >= 0) removeRow(m_list->currentRow());
    });
    connect(m_list, &QListWidget::itemChanged, this, &InterventionList::changed);
}

std::vector<std::pair<std::string, bool>> InterventionList::entries() const
{
    std::vector<std::pair<std::string, bool>> out;
    for (int i = 0; i < m_list->count(); ++i)
        out.emplace_back(m_list->item(i)->text().toStdString(), m_list->item(i)->checkState() == Qt::Checked);
    return out;
}

void InterventionList::setEntries(const std::vector<std::pair<std::string, bool>>& entries)
{
    m_list->blockSignals(true);
    m_list->clear();
    for (const auto& [spec, on] : entries) {
        auto* item = new QListWidgetItem(QString::fromStdString(spec), m_list);
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        item->setCheckState(on ? Qt::Checked : Qt::Unchecked);
    }
    m_list->blockSignals(false);
    emit changed();
}

void InterventionList::add(const std::string& spec)
{
    const auto found = m_list->findItems(QString::fromStdString(spec), Qt::MatchExactly);
    if (!found.isEmpty()) {
        found.front()->setCheckState(Qt::Checked);  // itemChanged → changed() when it was off
        return;
    }
    auto all = entries();
    all.emplace_back(spec, true);
    setEntries(all);
}

void InterventionList::setEnabled(int row, bool on)
{
    if (QListWidgetItem* item = m_list->item(row)) item->setCheckState(on ? Qt::Checked : Qt::Unchecked);
}

void InterventionList::removeRow(int row)
{
    delete m_list->takeItem(row);
    emit changed();
}

}  // namespace spyglass::ui
