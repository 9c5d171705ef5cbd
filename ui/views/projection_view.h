#pragma once
// ProjectionView — tokens as points of the 2-D PCA map of one layer's activations, coloured by
// cluster; hover shows the token, clicking selects it in every view.
#include "views/report_types.h"

#include <QWidget>

class QCustomPlot;
class QCPGraph;
class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace spyglass::ui {

class TokenSelection;

class ProjectionView : public QWidget {
    Q_OBJECT
public:
    ProjectionView(TokenSelection* selection, QWidget* parent = nullptr);
    void setReport(const ReportPtr& report);
    [[nodiscard]] QCustomPlot* plot() const { return m_plot; }
    [[nodiscard]] int pointCount() const;
    [[nodiscard]] QString toCsv() const;
    void setRecomputing(bool busy);

signals:
    void reprojectRequested(int layer, spyglass::core::ProjectionSource source);

private:
    [[nodiscard]] int nearest(const QPointF& pixel) const;
    void showSelection();

    TokenSelection* m_selection;
    QCustomPlot* m_plot;
    QLabel* m_caption;
    QSpinBox* m_layer;
    QComboBox* m_source;
    QPushButton* m_recompute;
    QCPGraph* m_selected = nullptr;
    ReportPtr m_report;
};

}  // namespace spyglass::ui
