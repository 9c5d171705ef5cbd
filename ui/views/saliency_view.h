#pragma once
// SaliencyView — for the selected generated token, every earlier token coloured by its share
// (colour domain [0, max] of that row, Ecco-style; percentages on hover), and the whole matrix
// (generated × context tokens) as a heatmap with token labels. Rows arrive live while the model
// generates; switching the method only re-colours (everything computed is kept).
#include "views/report_types.h"

#include <QStringList>
#include <QWidget>

#include <vector>

class QComboBox;
class QCustomPlot;
class QCPColorMap;
class QLabel;

namespace spyglass::ui {

class TokenSelection;
class TokenStrip;

class SaliencyView : public QWidget {
    Q_OBJECT
public:
    SaliencyView(TokenSelection* selection, QWidget* parent = nullptr);

    void startLive(const QStringList& methods, const QStringList& promptTokens);
    void addLiveRow(int method, const QString& tokenText, const core::SaliencyRow& row);
    void setReport(const ReportPtr& report);

    [[nodiscard]] int rowCount(int method) const;
    [[nodiscard]] TokenStrip* strip() const { return m_strip; }
    [[nodiscard]] QCustomPlot* heatmap() const { return m_plot; }
    [[nodiscard]] QString toCsv() const;

private:
    void refresh();
    [[nodiscard]] const core::SaliencyRow* rowFor(int position) const;

    TokenSelection* m_selection;
    QComboBox* m_method;
    QLabel* m_caption;
    TokenStrip* m_strip;
    QCustomPlot* m_plot;
    QCPColorMap* m_map = nullptr;
    QStringList m_tokens;
    std::vector<bool> m_generated;
    std::vector<std::vector<core::SaliencyRow>> m_rows;  // [method][generated index]
    int m_shownRow = -1;                                 // position of the generated token shown
};

}  // namespace spyglass::ui
