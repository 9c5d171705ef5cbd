#pragma once
// AbCompareView — two prompts side by side (core::PromptComparison), one column per aligned token:
// A's and B's tokens (generated ones in bold) coloured by the saliency share each receives, Δ saliency (B − A) in
// diverging colours, the first lens layer whose top-1 is the next token on each side, and every
// joint factor's strength on each side. Columns where the prompts differ (a token without a
// partner) are outlined. Hover shows a column's numbers; the whole widget exports as one figure.
#include "views/report_types.h"

#include <QWidget>

namespace spyglass::ui {

class AbCompareView : public QWidget {
    Q_OBJECT
public:
    explicit AbCompareView(QWidget* parent = nullptr);

    void setComparison(const ComparisonPtr& comparison);
    [[nodiscard]] const ComparisonPtr& comparison() const { return m_comparison; }
    // One line per aligned column.
    [[nodiscard]] QString toCsv() const;
    // Row labels top to bottom (for tests and the figure's legend).
    [[nodiscard]] QStringList rowLabels() const;
    // The aligned column under a widget point, −1 outside.
    [[nodiscard]] int columnAt(const QPoint& point) const;
    [[nodiscard]] QString columnSummary(int column) const;
    [[nodiscard]] QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;
    bool event(QEvent* event) override;

private:
    void relayout();

    ComparisonPtr m_comparison;
    QStringList m_textsA, m_textsB;
    std::vector<float> m_receivedA, m_receivedB;
    std::vector<int> m_lensA, m_lensB;
    std::vector<std::vector<float>> m_factorsA, m_factorsB;  // k × positions of each side
    std::vector<int> m_x, m_width;                           // per column
    int m_labelWidth = 0;
};

}  // namespace spyglass::ui
