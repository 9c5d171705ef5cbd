#include "models/lens_table_model.h"

#include "views/contrast.h"
#include "views/figure_export.h"
#include "views/token_strip.h"

#include <QColor>
#include <QFont>
#include <cmath>

namespace spyglass::ui {

void LensTableModel::setReport(ReportPtr report)
{
    beginResetModel();
    m_report = std::move(report);
    endResetModel();
}

void LensTableModel::setMode(Mode mode)
{
    m_mode = mode;
    if (rowCount() > 0)
        emit dataChanged(index(0, 0), index(rowCount() - 1, columnCount() - 1), {Qt::BackgroundRole, Qt::DisplayRole});
}

int LensTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() || !m_report || !m_report->lens ? 0 : static_cast<int>(m_report->lens->cells.size());
}

int LensTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() || !m_report || !m_report->lens ? 0 : static_cast<int>(m_report->tokens.size());
}

QString LensTableModel::tokenText(int id) const
{
    if (m_report) {
        const auto it = m_report->tokenTexts.find(id);
        if (it != m_report->tokenTexts.end()) return QString::fromStdString(it->second);
    }
    return QStringLiteral("#%1").arg(id);
}

QColor LensTableModel::cellColour(const core::LensCell& cell) const
{
    if (m_mode == Mode::Rank) {
        if (!cell.nextRank) return {};
        // Rank 1 dark, fading with log(rank) (Ecco's rankings colouring).
        const double t = std::min(1.0, std::log10(static_cast<double>(*cell.nextRank)) / 4.0);
        return QColor::fromHsvF(0.58F, static_cast<float>(0.75 * (1 - t) + 0.05),
                                static_cast<float>(1.0 - 0.45 * (1 - t)));
    }
    const double p = cell.topProbs.empty() ? 0 : cell.topProbs.front();
    return QColor::fromHsvF(0.33F, static_cast<float>(std::clamp(p, 0.03, 1.0)), static_cast<float>(1.0 - 0.35 * p));
}

int LensTableModel::firstTopLayer(int position) const
{
    for (int row = 0; row < rowCount(); ++row) {
        const auto& cell = m_report->lens->cells[static_cast<size_t>(row)][static_cast<size_t>(position)];
        if (cell.nextRank && *cell.nextRank == 1) return row;
    }
    return -1;
}

QVariant LensTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= columnCount()) return {};
    const core::LensCell& cell =
        m_report->lens->cells[static_cast<size_t>(index.row())][static_cast<size_t>(index.column())];
    if (cell.topIds.empty())
        return role == Qt::ToolTipRole ? QVariant(tr("not computed yet (the lens fills in as tokens are generated)"))
                                       : QVariant();
    switch (role) {
        case Qt::DisplayRole:
            if (m_mode == Mode::Rank) return cell.nextRank ? QVariant(*cell.nextRank) : QVariant(QStringLiteral("–"));
            return cell.topIds.empty() ? QString() : TokenStrip::label(tokenText(cell.topIds.front()));
        case Qt::BackgroundRole: {
            const QColor c = cellColour(cell);
            return c.isValid() ? QVariant(c) : QVariant();
        }
        case Qt::ForegroundRole: {
            const QColor c = cellColour(cell);
            return c.isValid() ? QVariant(readableTextOn(c)) : QVariant();
        }
        case Qt::ToolTipRole: {
            QString tip = QStringLiteral("<b>%1</b>, position %2<br>")
                              .arg(QString::fromStdString(m_report->lens->layers[static_cast<size_t>(index.row())]))
                              .arg(index.column());
            for (size_t k = 0; k < cell.topIds.size(); ++k)
                tip += QStringLiteral("%1. %2 — %3%<br>")
                           .arg(k + 1)
                           .arg(tokenText(cell.topIds[k]).toHtmlEscaped())
                           .arg(100.0 * cell.topProbs[k], 0, 'f', 2);
            if (cell.nextRank)
                tip += QStringLiteral("next token rank %1, p = %2%")
                           .arg(*cell.nextRank)
                           .arg(100.0 * *cell.nextProb, 0, 'f', 2);
            return tip;
        }
        case Qt::TextAlignmentRole:
            return int(Qt::AlignCenter);
        case Qt::FontRole: {
            if (firstTopLayer(index.column()) != index.row()) return {};
            QFont bold;
            bold.setBold(true);
            return bold;
        }
        case TopProbabilityRole:
            return cell.topProbs.empty() ? 0.0 : double(cell.topProbs.front());
        case NextRankRole:
            return cell.nextRank ? QVariant(*cell.nextRank) : QVariant();
        case NextProbabilityRole:
            return cell.nextProb ? QVariant(double(*cell.nextProb)) : QVariant();
        case FirstTopLayerRole:
            return firstTopLayer(index.column()) == index.row();
        default:
            return {};
    }
}

QVariant LensTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole || !m_report || !m_report->lens) return {};
    if (orientation == Qt::Vertical) {
        if (section < 0 || section >= rowCount()) return {};
        return QString::fromStdString(m_report->lens->layers[static_cast<size_t>(section)]);
    }
    if (section < 0 || section >= columnCount()) return {};
    const auto& t = m_report->tokens[static_cast<size_t>(section)];
    return TokenStrip::label(tokenText(t.id));
}

QString LensTableModel::toCsv() const
{
    QString csv = QStringLiteral("layer,position,token,top1,top1_prob,next_rank,next_prob,entropy\n");
    for (int row = 0; row < rowCount(); ++row)
        for (int col = 0; col < columnCount(); ++col) {
            const auto& cell = m_report->lens->cells[static_cast<size_t>(row)][static_cast<size_t>(col)];
            if (cell.topIds.empty()) continue;
            csv += QStringLiteral("%1,%2,%3,%4,%5,%6,%7,%8\n")
                       .arg(QString::fromStdString(m_report->lens->layers[static_cast<size_t>(row)]))
                       .arg(col)
                       .arg(csvField(tokenText(m_report->tokens[static_cast<size_t>(col)].id)))
                       .arg(csvField(tokenText(cell.topIds.front())))
                       .arg(cell.topProbs.front(), 0, 'g', 8)
                       .arg(cell.nextRank ? QString::number(*cell.nextRank) : QString())
                       .arg(cell.nextProb ? QString::number(*cell.nextProb, 'g', 8) : QString())
                       .arg(cell.entropy, 0, 'g', 8);
        }
    return csv;
}

}  // namespace spyglass::ui
