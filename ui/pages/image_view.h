#pragma once
// ImageView — the Image tab: a Stable Diffusion prompt with its settings, the generated image
// (decoded previews while it denoises), the prompt's words; clicking a word overlays its DAAM
// heatmap (opacity, colormap, threshold mask), filtered by block/resolution/layer, head and step;
// a grid of every word side by side; export of the image, overlays and raw maps. Filtered maps
// are computed on a pool thread (they run libtorch), never on the GUI thread; the newest filter
// wins.
#include "pages/page.h"
#include "worker/diffusion_request.h"

#include <QImage>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGridLayout;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QScrollArea;
class QSlider;
class QSpinBox;
class QStackedWidget;

namespace spyglass::ui {

class LoraList;
class RunController;

class ImageView : public Page {
    Q_OBJECT
public:
    // Generates through `controller` and shows what it returns.
    explicit ImageView(RunController* controller, QWidget* parent = nullptr);

    void runPage() override;
    [[nodiscard]] QString exportView(const QString& path, int dpi) override;
    [[nodiscard]] QImage viewImage() override { return shownImage(); }

    // The request the settings describe (id, device and threads are filled by the controller).
    [[nodiscard]] DiffusionRequest request() const;
    void setModelPath(const QString& path);
    // Fills the settings from an A1111 / Forge PNG's parameters (also by dropping the PNG on the
    // tab); the status line says what could not be honoured. Returns false (and says why) when the
    // PNG has none.
    bool applyParametersFrom(const QString& png);
    [[nodiscard]] LoraList* loraList() const { return m_loras; }
    void setPrompt(const QString& prompt);
    void setBusy(bool busy);
    void showPreview(int step, int total, const QImage& image);
    void setResult(const DiffusionResultPtr& result);
    [[nodiscard]] const DiffusionResultPtr& result() const { return m_result; }

    void selectWord(int index);  // −1: the image alone
    [[nodiscard]] int selectedWord() const { return m_word; }
    [[nodiscard]] QStringList words() const;
    [[nodiscard]] QImage shownImage() const { return m_shown; }
    void setOpacity(double alpha);
    void setColormap(const QString& name);
    void setThreshold(std::optional<double> threshold);
    void setStep(int call);          // −1: every UNet call (DAAM); k: call k only
    void setLayerFilter(int index);  // index into the layer combo (0: all)
    [[nodiscard]] int layerFilterCount() const;
    void setGridShown(bool shown);
    [[nodiscard]] int gridCellCount() const;
    // True while maps for a new filter are being computed (shownImage() still shows the old ones).
    [[nodiscard]] bool mapsPending() const { return m_mapsPending; }
    // Writes image.png, one overlay PNG per word, word_maps.csv (the maps at the latent grid, for
    // the current filter) and index.json to `dir`. Returns an error message or "".
    QString exportTo(const QString& dir) const;

signals:
    void runRequested(const spyglass::ui::DiffusionRequest& request);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void chooseModel();
    void rebuildFilters();
    void recomputeMaps();  // after a filter change
    void refresh();        // redraw the image / overlay / grid
    [[nodiscard]] core::HeatmapFilter filter() const;
    [[nodiscard]] QImage overlayFor(int word) const;
    [[nodiscard]] QImage baseImage() const;

    QLineEdit* m_modelPath;
    LoraList* m_loras;
    DiffusionRequest m_lastRequest;  // what made m_result (its PNG carries the parameters)
    QPlainTextEdit* m_prompt;
    QLineEdit* m_negative;
    QSpinBox* m_steps;
    QDoubleSpinBox* m_guidance;
    QComboBox* m_scheduler;
    QSpinBox* m_seed;
    QSpinBox* m_width;
    QSpinBox* m_height;
    QPushButton* m_generate;
    QLabel* m_canvas;
    QLabel* m_status;
    QListWidget* m_wordList;
    QSlider* m_opacity;
    QComboBox* m_colormap;
    QCheckBox* m_thresholdOn;
    QDoubleSpinBox* m_threshold;
    QComboBox* m_layers;
    QSpinBox* m_head;
    QSlider* m_step;
    QLabel* m_stepLabel;
    QCheckBox* m_gridToggle;
    QStackedWidget* m_stack;
    QScrollArea* m_gridArea;
    QWidget* m_gridHost;
    QGridLayout* m_grid;

    DiffusionResultPtr m_result;
    core::HostTensor m_wordImages;              // [words, H, W] min–max, for the current filter
    core::HostTensor m_wordGrid;                // [words, h, w] raw, for the current filter
    std::vector<std::vector<int>> m_layerSets;  // per layer-combo entry
    int m_word = -1;
    QImage m_preview;
    QImage m_shown;
    quint64 m_mapsGeneration = 0;
    bool m_mapsPending = false;
};

}  // namespace spyglass::ui
