#include "views/lens_view.h"

#include "models/lens_table_model.h"
#include "views/token_selection.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
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
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_table, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        const QModelIndex index = m_table->indexAt(at);
        if (!index.isValid()) return;
        QMenu menu;
        menu.addActions(ablationActions(index.row(), index.column(), &menu));
        if (!menu.isEmpty()) menu.exec(m_table->viewport()->mapToGlobal(at));
    });
    connect(m_table, &QTableView::clicked, this,
            [this](const QModelIndex& index) { m_selection->select(index.column()); });
    connect(m_table->horizontalHeader(), &QHeaderView::sectionClicked, m_selection, &TokenSelection::select);
    connect(m_selection, &TokenSelection::positionChanged, this, [this](int p) {
        if (p >= 0 && p < m_model->columnCount()) m_table->selectColumn(p);
    });
}

QList<QAction*> LensView::ablationActions(int row, int position, QObject* parent)
{
    QList<QAction*> out;
    if (!m_report || !m_report->lens || row < 0 || row >= static_cast<int>(m_report->lens->layers.size())) return out;
    // "block.3" reads block 3's output (attention and MLP); "block.3.attn" / "block.3.mlp" one of them.
    const QString name = QString::fromStdString(m_report->lens->layers[static_cast<size_t>(row)]);
    const QStringList parts = name.split(QLatin1Char('.'));
    if (parts.size() < 2 || parts[0] != QLatin1String("block")) return out;
    bool ok = false;
    const int layer = parts[1].toInt(&ok);
    if (!ok) return out;
    auto add = [&](const QString& kind, const QString& what) {
        auto* action =
            new QAction(tr("Ablate block %1's %2 output at this token and rerun").arg(layer).arg(what), parent);
        const QString spec = QStringLiteral("%1:%2@%3").arg(kind).arg(layer).arg(position);
        connect(action, &QAction::triggered, this, [this, spec] { emit ablationRequested(spec); });
        out << action;
    };
    if (parts.size() == 2 || parts[2] == QLatin1String("attn")) add(QStringLiteral("attn"), tr("attention"));
    if (parts.size() == 2 || parts[2] == QLatin1String("mlp")) add(QStringLiteral("mlp"), tr("MLP"));
    return out;
}

void LensView::setReport(const ReportPtr& report)
{
    m_report = report;
    m_model->setReport(report);
    const QString mode = report->lens ? QString::fromStdString(core::nameString(report->lens->mode)) : QString();
    setToolTip(tr("Lens mode: %1").arg(mode));
}

}  // namespace spyglass::ui
