#pragma once
// FactorsView — NMF factors of the MLP activations: every token coloured by its strongest factor
// (one hue per factor, intensity = strength, Ecco's explorable) or by one chosen factor; the
// strength of each factor over positions as lines; the tokens each factor promotes.
#include "views/report_types.h"

#include <QWidget>

class QAction;
class QComboBox;
class QPushButton;
class QSpinBox;
class QCustomPlot;
class QLabel;

namespace spyglass::ui {

class TokenSelection;
class TokenStrip;

class FactorsView : public QWidget {
    Q_OBJECT
public:
    FactorsView(TokenSelection* selection, QWidget* parent = nullptr);
    void setReport(const ReportPtr& report);
    [[nodiscard]] TokenStrip* strip() const { return m_strip; }
    [[nodiscard]] QCustomPlot* plot() const { return m_plot; }
    [[nodiscard]] QString toCsv() const;
    [[nodiscard]] static QColor factorColour(int factor, int count);
    void setRecomputing(bool busy);
    // The right-click menu's entries, owned by `parent`: "Ablate factor K and rerun" for every factor
    // (the chosen one first; emits factorAblationRequested) and, for that first factor, its top 5
    // neurons in its strongest layer (emits ablationRequested with a neuron:L:… spec).
    [[nodiscard]] QList<QAction*> ablationActions(QObject* parent);

signals:
    // k and the layer range [firstLayer, endLayer) chosen in the view.
    void recomputeRequested(int k, int firstLayer, int endLayer);
    // "Ablate and rerun" on factor K of the report on screen.
    void factorAblationRequested(int factor);
    // "Ablate and rerun" on neurons: an intervention spec (spyglass/intervention.h).
    void ablationRequested(const QString& spec);

private:
    void refresh();

    TokenSelection* m_selection;
    QComboBox* m_factor;
    QSpinBox* m_k;
    QSpinBox* m_firstLayer;
    QSpinBox* m_lastLayer;
    QPushButton* m_recompute;
    TokenStrip* m_strip;
    QCustomPlot* m_plot;
    QLabel* m_promoted;
    ReportPtr m_report;
};

}  // namespace spyglass::ui
