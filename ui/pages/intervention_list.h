#pragma once
// InterventionList — the language model's interventions as a list: each spec (spyglass/
// intervention.h: neuron:1:7, head:0:1,2, attn:1@5, factor:2:FILE …) with a check box that turns
// it on or off without forgetting it, a field to add specs (Enter; several separated by spaces)
// and Remove. Only the checked ones go into a run. Views add to it ("Ablate and rerun").
#include <QWidget>

#include <string>
#include <utility>
#include <vector>

class QLineEdit;
class QListWidget;

namespace spyglass::ui {

class InterventionList : public QWidget {
    Q_OBJECT
public:
    explicit InterventionList(QWidget* parent = nullptr);

    // Specs in order, each with whether it is on.
    [[nodiscard]] std::vector<std::pair<std::string, bool>> entries() const;
    void setEntries(const std::vector<std::pair<std::string, bool>>& entries);
    // Adds `spec` (on), or turns on the entry already holding it.
    void add(const std::string& spec);
    void setEnabled(int row, bool on);
    void removeRow(int row);
    [[nodiscard]] QListWidget* list() const { return m_list; }
    [[nodiscard]] QLineEdit* input() const { return m_input; }

signals:
    void changed();

private:
    QListWidget* m_list;
    QLineEdit* m_input;
};

}  // namespace spyglass::ui
