#pragma once
// LensView — the logit lens table (layers × positions), coloured by the top-1 probability or, in
// rank mode, by the rank of the token that actually comes next; the first layer where that token
// reaches rank 1 is in bold. Hover shows the top-k; clicking a column selects its token.
#include "views/report_types.h"

#include <QWidget>

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

private:
    TokenSelection* m_selection;
    LensTableModel* m_model;
    QTableView* m_table;
    QComboBox* m_mode;
};

}  // namespace spyglass::ui
