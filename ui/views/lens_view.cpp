#include "views/lens_view.h"

#include "models/lens_table_model.h"
#include "views/token_selection.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

namespace spyglass::ui {

LensView::LensView(TokenSelection* selection, QWidget* parent)
    : QWidget(parent),
      m_selection(selection),
      m_model(new LensTableModel(this)),
      m_table(new QTableView),
      m_mode(new QComboBox)
{
    setWindowTitle(tr("Logit lens"));
    m_mode->addItem(tr("Top-1 token (colour: its probability)"));
    m_mode->addItem(tr("Rank of the actual next token"));
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Show:")));
    top->addWidget(m_mode);
    top->addStretch(1);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_table, 1);
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectColumns);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    connect(m_mode, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_model->setMode(i == 0 ? LensTableModel::Mode::Probability : LensTableModel::Mode::Rank);
    });
    connect(m_table, &QTableView::clicked, this,
            [this](const QModelIndex& index) { m_selection->select(index.column()); });
    connect(m_table->horizontalHeader(), &QHeaderView::sectionClicked, m_selection, &TokenSelection::select);
    connect(m_selection, &TokenSelection::positionChanged, this, [this](int p) {
        if (p >= 0 && p < m_model->columnCount()) m_table->selectColumn(p);
    });
}

void LensView::setReport(const ReportPtr& report)
{
    m_model->setReport(report);
    const QString mode = report->lens ? QString::fromStdString(core::nameString(report->lens->mode)) : QString();
    setToolTip(tr("Lens mode: %1").arg(mode));
}

}  // namespace spyglass::ui
