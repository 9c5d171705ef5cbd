#pragma once
// LensView — the logit lens table (layers × positions), coloured by the top-1 probability or, in
// rank mode, by the rank of the token that actually comes next; the first layer where that token
// reaches rank 1 is in bold. Hover shows the top-k; clicking a column selects its token.
#include "views/report_types.h"

#include <QWidget>

class QAction;
class QComboBox;
class QTableView;

namespace spyglass::ui {

class LensTableModel;
class TokenSelection;

class LensView : public QWidget {
    Q_OBJECT
public:
    LensView(TokenSelection* selection, QWidget* parent = nullptr);
    void setReport(const ReportPtr& report);
    [[nodiscard]] LensTableModel* model() const { return m_model; }
    [[nodiscard]] QTableView* table() const { return m_table; }
    // The right-click menu of the cell (layer row, position), owned by `parent`: ablate the block
    // output that cell reads, at that position.
    [[nodiscard]] QList<QAction*> ablationActions(int row, int position, QObject* parent);

signals:
    // "Ablate and rerun": an intervention spec (spyglass/intervention.h).
    void ablationRequested(const QString& spec);

private:
    TokenSelection* m_selection;
    ReportPtr m_report;
    LensTableModel* m_model;
    QTableView* m_table;
    QComboBox* m_mode;
};

}  // namespace spyglass::ui
