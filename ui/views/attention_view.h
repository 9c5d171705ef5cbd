#pragma once
// AttentionView — where the selected token looks: for one layer and head (or the mean of the
// heads) the context coloured by its attention weights, and a layers × heads overview coloured by
// each head's largest weight (a click picks that layer and head). The weights come from the
// worker for the selected token of the current report (LanguagePage asks for them); long
// contexts scroll, and only the selected token's row is ever computed or kept.
#include "spyglass/host_tensor.h"
#include "views/report_types.h"

#include <QStringList>
#include <QWidget>

class QAction;
class QComboBox;
class QCustomPlot;
class QCPColorMap;
class QLabel;
class QSpinBox;

namespace spyglass::ui {

class TokenSelection;
class TokenStrip;

class AttentionView : public QWidget {
    Q_OBJECT
public:
    explicit AttentionView(TokenSelection* selection, QWidget* parent = nullptr);

    void setReport(const ReportPtr& report);
    // The weights of the token at `position`: [layers, heads, position + 1].
    void setAttention(int position, const core::HostTensor& weights);
    [[nodiscard]] int position() const { return m_position; }
    [[nodiscard]] const core::HostTensor& weights() const { return m_weights; }
    // −1 for the mean of the heads.
    void setLayerAndHead(int layer, int head);
    [[nodiscard]] int layer() const;
    [[nodiscard]] int head() const;
    // Weights the strip shows (one per context position) for the chosen layer and head.
    [[nodiscard]] std::vector<float> shownWeights() const;
    [[nodiscard]] QString caption() const;
    [[nodiscard]] QString toCsv() const;
    [[nodiscard]] QCustomPlot* overview() const { return m_plot; }
    // The right-click menu of the layers × heads overview at (layer, head), owned by `parent`.
    [[nodiscard]] QList<QAction*> ablationActions(int layer, int head, QObject* parent);

signals:
    // "Ablate and rerun": an intervention spec (spyglass/intervention.h).
    void ablationRequested(const QString& spec);

private:
    void refresh();

    TokenSelection* m_selection;
    QSpinBox* m_layer;
    QComboBox* m_head;
    QLabel* m_caption;
    TokenStrip* m_strip;
    QCustomPlot* m_plot;
    QCPColorMap* m_map;
    QStringList m_tokens;
    int m_position = -1;
    core::HostTensor m_weights;  // empty: nothing to show
};

}  // namespace spyglass::ui
