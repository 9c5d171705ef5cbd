#pragma once
// PromptLabView — the Prompt lab tab: a base prompt and an appended "magic" prompt split into
// chunks, seeds and settings; Run compares the full prompt, the prompt without each chunk and the
// base alone; the full image takes a mouse-drawn region; the ranked table gives each chunk's
// change inside/outside the region, its heat there and a verdict; a row shows that variant and
// its difference; the shortened prompt and its image; export writes the report files. A new
// region re-scores from the worker's cache without regenerating.
#include "pages/page.h"
#include "worker/lab_request.h"

#include <optional>

class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace spyglass::ui {

class LoraList;
class RegionCanvas;
class RunController;

class PromptLabView : public Page {
    Q_OBJECT
public:
    // Runs through `controller` and shows what it returns.
    explicit PromptLabView(RunController* controller, QWidget* parent = nullptr);

    void runPage() override;
    [[nodiscard]] QString exportView(const QString& path, int dpi) override;
    [[nodiscard]] QImage viewImage() override { return grab().toImage(); }

    // The request the settings describe (id, device and threads are filled by the controller), LoRA
    // tags resolved (base tags → the always-on list, chunk tags → loraFiles). Throws nothing: an
    // invalid setting shows up as an error from the worker.
    [[nodiscard]] LabRequest request() const;
    void setModelPath(const QString& path);
    void setBase(const QString& base);
    void setAppended(const QString& appended);
    void setSeeds(const QString& seeds);
    void setSteps(int steps);
    // Fills the lab from an A1111 / Forge PNG's parameters (also by dropping the PNG on the tab):
    // base = the prompt up to its first separator, appended = the rest; seed, steps, guidance; the
    // negative prompt, sampler and size the tab has no field for are used too and named in the
    // summary. Returns false (and says why) when the PNG has none.
    bool applyParametersFrom(const QString& png);
    [[nodiscard]] LoraList* loraList() const { return m_loras; }
    void setBusy(bool busy);
    void setResult(const LabResultPtr& result);
    [[nodiscard]] const LabResultPtr& result() const { return m_result; }
    [[nodiscard]] RegionCanvas* canvas() const { return m_canvas; }
    [[nodiscard]] QTableWidget* table() const { return m_table; }
    void selectRow(int row);
    [[nodiscard]] QImage variantImage() const;  // the selected chunk's variant | difference

signals:
    void runRequested(const spyglass::ui::LabRequest& request);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void showVariant();

    QLineEdit* m_modelPath;
    LoraList* m_loras;
    std::optional<core::DiffusionOptions> m_fromPng;  // negative, sampler, size of a dropped PNG
    QLineEdit* m_base;
    QPlainTextEdit* m_append;
    QLineEdit* m_separator;
    QLineEdit* m_seeds;
    QSpinBox* m_steps;
    QDoubleSpinBox* m_guidance;
    QDoubleSpinBox* m_threshold;
    QCheckBox* m_addOne;
    QCheckBox* m_brush;
    QSpinBox* m_brushRadius;
    QPushButton* m_run;
    RegionCanvas* m_canvas;
    QTableWidget* m_table;
    QLabel* m_variant;
    QLabel* m_shortened;
    QLabel* m_summary;
    LabResultPtr m_result;
    QImage m_variantImage;
};

}  // namespace spyglass::ui
