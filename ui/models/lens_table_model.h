#pragma once
// LensTableModel — the logit lens as a table: rows are layers ("embed", "block.0", …), columns
// are positions. Display: the layer's top-1 token; background: its probability (or, in rank
// mode, the rank of the token that actually comes next, Ecco's "rankings"); tooltip: the top-k.
#include "views/report_types.h"

#include <QAbstractTableModel>
#include <QColor>

namespace spyglass::ui {

class LensTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Role { TopProbabilityRole = Qt::UserRole + 1, NextRankRole, NextProbabilityRole, FirstTopLayerRole };
    enum class Mode { Probability, Rank };

    using QAbstractTableModel::QAbstractTableModel;
    void setReport(ReportPtr report);
    void setMode(Mode mode);
    [[nodiscard]] Mode mode() const { return m_mode; }

    [[nodiscard]] int rowCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] int columnCount(const QModelIndex& parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex& index, int role) const override;
    [[nodiscard]] QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    // First layer (row) at which the next token at `position` reaches rank 1, or −1.
    [[nodiscard]] int firstTopLayer(int position) const;
    [[nodiscard]] QString tokenText(int id) const;
    // Comma-separated table (layer, position, token, top-1, probability, next rank, next probability).
    [[nodiscard]] QString toCsv() const;

private:
    // The cell's background in the current mode (invalid: none).
    [[nodiscard]] QColor cellColour(const core::LensCell& cell) const;

    ReportPtr m_report;
    Mode m_mode = Mode::Probability;
};

}  // namespace spyglass::ui
