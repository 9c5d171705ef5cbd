#include "pages/image_view.h"

#include <QFileInfo>
#include "run_controller.h"

#include "pages/image_inputs.h"
#include "pages/lora_list.h"
#include "spyglass/generation_parameters.h"
#include "spyglass/heatmap_overlay.h"
#include "spyglass/scheduler_names.h"
#include "views/figure_export.h"
#include "views/plot_helpers.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollArea>
#include <QSlider>
#include <QSpinBox>
#include <QStackedWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <limits>
#include <map>
#include <set>

namespace spyglass::ui {

namespace {

// Scales an image to fit `box`, pixel-exact (nearest) when enlarging a small image.
QPixmap fitted(const QImage& image, const QSize& box)
{
    if (image.isNull() || box.isEmpty()) return {};
    const QSize target = image.size().scaled(box, Qt::KeepAspectRatio);
    const bool enlarge = target.width() > image.width();
    return QPixmap::fromImage(
        image.scaled(target, Qt::KeepAspectRatio, enlarge ? Qt::FastTransformation : Qt::SmoothTransformation));
}

}  // namespace

ImageView::ImageView(RunController* controller, QWidget* parent)
    : Page(parent),
      m_modelPath(new QLineEdit),
      m_loras(new LoraList),
      m_prompt(new QPlainTextEdit),
      m_negative(new QLineEdit),
      m_steps(new QSpinBox),
      m_guidance(new QDoubleSpinBox),
      m_scheduler(new QComboBox),
      m_seed(new QSpinBox),
      m_width(new QSpinBox),
      m_height(new QSpinBox),
      m_generate(new QPushButton(tr("Generate"))),
      m_canvas(new QLabel),
      m_status(new QLabel),
      m_wordList(new QListWidget),
      m_opacity(new QSlider(Qt::Horizontal)),
      m_colormap(new QComboBox),
      m_thresholdOn(new QCheckBox(tr("mask above"))),
      m_threshold(new QDoubleSpinBox),
      m_layers(new QComboBox),
      m_head(new QSpinBox),
      m_step(new QSlider(Qt::Horizontal)),
      m_stepLabel(new QLabel),
      m_gridToggle(new QCheckBox(tr("All words side by side"))),
      m_stack(new QStackedWidget),
      m_gridArea(new QScrollArea),
      m_gridHost(new QWidget),
      m_grid(new QGridLayout(m_gridHost))
{
    m_modelPath->setPlaceholderText(
        tr("diffusers Stable Diffusion / SDXL folder, or a single-file .safetensors checkpoint (A1111 / Civitai)"));
    auto* browse = new QPushButton(tr("Open…"));
    auto* fromPng = new QPushButton(tr("From PNG…"));
    fromPng->setToolTip(tr("Fill the settings from an AUTOMATIC1111 / Forge PNG's parameters (or drop the PNG here)"));
    auto* modelRow = new QHBoxLayout;
    modelRow->addWidget(new QLabel(tr("Image model:")));
    modelRow->addWidget(m_modelPath, 1);
    modelRow->addWidget(browse);
    modelRow->addWidget(fromPng);
    setAcceptDrops(true);
    m_prompt->setPlaceholderText(tr("Prompt, e.g. a photo of a hand, masterpiece, best quality"));
    m_prompt->setMaximumHeight(60);
    m_negative->setPlaceholderText(tr("Negative prompt (optional)"));
    m_steps->setRange(1, 1000);
    m_steps->setValue(20);
    m_guidance->setRange(0, 30);
    m_guidance->setSingleStep(0.5);
    m_guidance->setValue(7.5);
    m_scheduler->addItem(tr("folder's"), QString());
    for (const std::string& s : core::schedulerShortNames())
        m_scheduler->addItem(QString::fromStdString(s), QString::fromStdString(s));
    m_seed->setRange(0, std::numeric_limits<int>::max());
    for (QSpinBox* size : {m_width, m_height}) {
        size->setRange(0, 4096);
        size->setSingleStep(8);
        size->setSpecialValueText(tr("model's"));
    }
    auto* settings = new QHBoxLayout;
    auto addSetting = [&](const QString& label, QWidget* w) {
        settings->addWidget(new QLabel(label));
        settings->addWidget(w);
    };
    addSetting(tr("Steps"), m_steps);
    addSetting(tr("Guidance"), m_guidance);
    addSetting(tr("Scheduler"), m_scheduler);
    addSetting(tr("Seed"), m_seed);
    addSetting(tr("Width"), m_width);
    addSetting(tr("Height"), m_height);
    settings->addStretch(1);
    settings->addWidget(m_generate);

    m_canvas->setAlignment(Qt::AlignCenter);
    m_canvas->setMinimumSize(256, 256);
    m_canvas->setWordWrap(true);
    m_canvas->setText(
        tr("Type a prompt above and press Generate (Ctrl+Return).\n\nThe image appears here while it "
           "denoises; then click a word on the right to see where in the image it acted (its DAAM heatmap), "
           "and filter by layer, head or step."));
    m_canvas->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    m_gridArea->setWidget(m_gridHost);
    m_gridArea->setWidgetResizable(true);
    m_stack->addWidget(m_canvas);
    m_stack->addWidget(m_gridArea);

    m_opacity->setRange(0, 100);
    m_opacity->setValue(55);
    for (const auto& name : core::colormapNames()) m_colormap->addItem(QString::fromStdString(name));
    m_threshold->setRange(0, 1);
    m_threshold->setSingleStep(0.05);
    m_threshold->setValue(0.4);
    m_head->setRange(-1, 64);
    m_head->setSpecialValueText(tr("all"));
    m_head->setValue(-1);
    m_step->setRange(0, 0);
    m_wordList->setToolTip(tr("Click a word to overlay its heatmap; the share is its part of all words' heat"));

    auto* controls = new QWidget;
    auto* form = new QFormLayout(controls);
    form->addRow(m_wordList);
    form->addRow(tr("Opacity"), m_opacity);
    form->addRow(tr("Colormap"), m_colormap);
    auto* thresholdRow = new QHBoxLayout;
    thresholdRow->addWidget(m_thresholdOn);
    thresholdRow->addWidget(m_threshold);
    form->addRow(tr("Threshold"), thresholdRow);
    form->addRow(tr("Layers"), m_layers);
    form->addRow(tr("Head"), m_head);
    form->addRow(tr("Step"), m_step);
    form->addRow(QString(), m_stepLabel);
    form->addRow(m_gridToggle);
    auto* exportButton = new QPushButton(tr("Export image, overlays and maps…"));
    form->addRow(exportButton);
    controls->setMaximumWidth(320);

    auto* body = new QHBoxLayout;
    body->addWidget(m_stack, 1);
    body->addWidget(controls);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(modelRow);
    layout->addWidget(m_loras);
    layout->addWidget(m_prompt);
    layout->addWidget(m_negative);
    layout->addLayout(settings);
    layout->addLayout(body, 1);
    layout->addWidget(m_status);

    connect(browse, &QPushButton::clicked, this, &ImageView::chooseModel);
    // What made the next result, for the PNG's parameters text (also for requests emitted directly).
    connect(this, &ImageView::runRequested, this, [this](const DiffusionRequest& r) { m_lastRequest = r; });
    connect(fromPng, &QPushButton::clicked, this, [this] {
        const QString png = QFileDialog::getOpenFileName(this, tr("Parameters from PNG"), QString(), tr("PNG (*.png)"));
        if (!png.isEmpty()) (void)applyParametersFrom(png);
    });
    connect(m_generate, &QPushButton::clicked, this, &ImageView::runPage);
    connect(this, &ImageView::runRequested, controller,
            [controller](const DiffusionRequest& r) { controller->generateImage(r); });
    connect(controller, &RunController::runStarted, this, [this] { setBusy(true); });
    connect(controller, &RunController::runFinished, this, [this] { setBusy(false); });
    connect(controller, &RunController::imagePreviewReady, this, &ImageView::showPreview);
    connect(controller, &RunController::imageReady, this, &ImageView::setResult);
    connect(m_wordList, &QListWidget::currentRowChanged, this, [this](int row) {
        m_word = row;
        refresh();
    });
    connect(m_opacity, &QSlider::valueChanged, this, &ImageView::refresh);
    connect(m_colormap, &QComboBox::currentIndexChanged, this, &ImageView::refresh);
    connect(m_thresholdOn, &QCheckBox::toggled, this, &ImageView::refresh);
    connect(m_threshold, &QDoubleSpinBox::valueChanged, this, &ImageView::refresh);
    connect(m_layers, &QComboBox::currentIndexChanged, this, &ImageView::recomputeMaps);
    connect(m_head, &QSpinBox::valueChanged, this, &ImageView::recomputeMaps);
    connect(m_step, &QSlider::valueChanged, this, &ImageView::recomputeMaps);
    connect(m_gridToggle, &QCheckBox::toggled, this, &ImageView::refresh);
    connect(exportButton, &QPushButton::clicked, this, [this] {
        if (!m_result) return emit message(tr("Generate an image first."));
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Export to folder"));
        if (dir.isEmpty()) return;
        const QString error = exportTo(dir);
        emit message(error.isEmpty() ? tr("Exported to %1").arg(dir) : error);
    });
}

void ImageView::runPage()
{
    if (!m_generate->isEnabled()) return;
    if (m_modelPath->text().trimmed().isEmpty()) return emit message(tr("Choose an image model folder first (Open…)."));
    if (m_prompt->toPlainText().trimmed().isEmpty()) return emit message(tr("Type a prompt first."));
    emit runRequested(request());  // LoRA tags are resolved where the run goes (RunController)
}

bool ImageView::applyParametersFrom(const QString& png)
{
    const PngParameters p = readPngParameters(png);
    if (!p.error.isEmpty()) {
        emit message(p.error);
        return false;
    }
    const core::DiffusionOptions& o = p.options;
    m_prompt->setPlainText(QString::fromStdString(o.prompt));
    m_negative->setText(QString::fromStdString(o.negativePrompt));
    m_steps->setValue(o.steps);
    m_guidance->setValue(o.guidance);
    m_seed->setValue(static_cast<int>(std::min<uint64_t>(o.seed, static_cast<uint64_t>(m_seed->maximum()))));
    m_width->setValue(o.width);
    m_height->setValue(o.height);
    const int index = m_scheduler->findData(QString::fromStdString(o.scheduler));
    if (index >= 0) m_scheduler->setCurrentIndex(index);
    QStringList notes = p.notes;
    if (o.seed > static_cast<uint64_t>(m_seed->maximum()))
        notes << tr("Seed %1 is larger than this field takes (use spyglass-cli diffuse --from-png)").arg(o.seed);
    if (o.clipSkip > 1) notes << tr("Clip skip %1: use spyglass-cli diffuse --from-png for it").arg(o.clipSkip);
    m_status->setText(tr("From %1: %2")
                          .arg(QFileInfo(png).fileName(),
                               notes.isEmpty() ? tr("every field used") : notes.join(QStringLiteral("; "))));
    emit message(tr("Settings taken from %1").arg(QFileInfo(png).fileName()));
    return true;
}

void ImageView::dragEnterEvent(QDragEnterEvent* event)
{
    if (!droppedPng(event->mimeData()).isEmpty()) event->acceptProposedAction();
}

void ImageView::dropEvent(QDropEvent* event)
{
    const QString png = droppedPng(event->mimeData());
    if (png.isEmpty()) return;
    event->acceptProposedAction();
    (void)applyParametersFrom(png);
}

QString ImageView::exportView(const QString& path, int dpi)
{
    if (!m_result) return tr("Generate an image first.");
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("png")) {
        QSaveFile file(path);
        if (!file.open(QIODevice::WriteOnly) || !shownImage().save(&file, "PNG") || !file.commit())
            return tr("%1: cannot write").arg(path);
        return {};
    }
    if (suffix == QLatin1String("csv"))
        return tr("%1: use Export image, overlays and maps… in the Image tab for the maps").arg(path);
    return exportFigure(this, path, dpi, {});
}

DiffusionRequest ImageView::request() const
{
    DiffusionRequest r;
    r.modelPath = m_modelPath->text().trimmed();
    core::DiffusionOptions& o = r.options;
    o.prompt = m_prompt->toPlainText().toStdString();
    o.negativePrompt = m_negative->text().toStdString();
    o.steps = m_steps->value();
    o.guidance = m_guidance->value();
    o.scheduler = m_scheduler->currentData().toString().toStdString();
    o.seed = static_cast<uint64_t>(m_seed->value());
    o.width = m_width->value();
    o.height = m_height->value();
    o.previewEvery = std::max(1, m_steps->value() / 5);
    r.load.loras = m_loras->loras();
    return r;
}

void ImageView::setModelPath(const QString& path)
{
    m_modelPath->setText(path);
}
void ImageView::setPrompt(const QString& prompt)
{
    m_prompt->setPlainText(prompt);
}
void ImageView::setBusy(bool busy)
{
    m_generate->setEnabled(!busy);
}

void ImageView::chooseModel()
{
    const QString path = chooseImageModel(this, m_modelPath->text());
    if (!path.isEmpty()) m_modelPath->setText(path);
}

void ImageView::showPreview(int step, int total, const QImage& image)
{
    m_preview = image;
    m_status->setText(tr("preview after step %1 of %2").arg(step).arg(total));
    m_stack->setCurrentWidget(m_canvas);
    m_canvas->setPixmap(fitted(image, m_canvas->size()));
}

void ImageView::setResult(const DiffusionResultPtr& result)
{
    m_result = result;
    m_word = -1;
    const auto& h = result->heatmaps;
    m_wordList->blockSignals(true);
    m_wordList->clear();
    double total = 0;
    for (float v : h.wordMaps.values) total += v;
    const auto cells = static_cast<size_t>(h.gridWidth) * static_cast<size_t>(h.gridHeight);
    for (size_t i = 0; i < h.words.size(); ++i) {
        double sum = 0;
        for (size_t c = 0; c < cells; ++c) sum += h.wordMaps.values[i * cells + c];
        m_wordList->addItem(QStringLiteral("%1   %2%")
                                .arg(QString::fromStdString(h.words[i].word))
                                .arg(total > 0 ? 100.0 * sum / total : 0.0, 0, 'f', 1));
    }
    m_wordList->blockSignals(false);
    m_step->blockSignals(true);
    m_step->setRange(-1, static_cast<int>(h.callMaps.size()) - 1);
    m_step->setValue(-1);
    m_step->blockSignals(false);
    rebuildFilters();
    m_status->setText(tr("%1 · %2 UNet calls · %3x%4 · heatmaps at the %5x%6 latent grid")
                          .arg(QString::fromStdString(result->scheduler))
                          .arg(result->timesteps.size())
                          .arg(result->width)
                          .arg(result->height)
                          .arg(h.gridWidth)
                          .arg(h.gridHeight));
    recomputeMaps();
}

void ImageView::rebuildFilters()
{
    m_layers->blockSignals(true);
    m_layers->clear();
    m_layerSets.clear();
    m_layers->addItem(tr("all (DAAM)"));
    m_layerSets.push_back({});
    if (m_result) {
        const auto& layers = m_result->heatmaps.layers;
        std::map<std::string, std::vector<int>> byBlock;
        std::map<std::pair<int, int>, std::vector<int>> byGrid;
        for (int l = 0; l < static_cast<int>(layers.size()); ++l) {
            byBlock[layers[static_cast<size_t>(l)].block].push_back(l);
            byGrid[{layers[static_cast<size_t>(l)].height, layers[static_cast<size_t>(l)].width}].push_back(l);
        }
        for (const auto& [block, set] : byBlock) {
            m_layers->addItem(tr("%1 blocks").arg(QString::fromStdString(block)));
            m_layerSets.push_back(set);
        }
        for (const auto& [grid, set] : byGrid) {
            m_layers->addItem(tr("%1x%2 resolution").arg(grid.second).arg(grid.first));
            m_layerSets.push_back(set);
        }
        for (int l = 0; l < static_cast<int>(layers.size()); ++l) {
            m_layers->addItem(QString::fromStdString(layers[static_cast<size_t>(l)].name));
            m_layerSets.push_back({l});
        }
    }
    m_layers->setCurrentIndex(0);
    m_layers->blockSignals(false);
}

core::HeatmapFilter ImageView::filter() const
{
    core::HeatmapFilter f;
    const int layerIndex = std::max(0, m_layers->currentIndex());
    if (layerIndex < static_cast<int>(m_layerSets.size())) f.layers = m_layerSets[static_cast<size_t>(layerIndex)];
    if (m_head->value() >= 0) f.heads = {m_head->value()};
    if (m_step->value() >= 0) {
        f.firstCall = m_step->value();
        f.endCall = m_step->value() + 1;
    }
    return f;
}

namespace {

// The word maps of one filter, computed away from the GUI thread.
struct FilteredMaps {
    core::HostTensor grid, images;
    QString error;
};

FilteredMaps filteredMaps(const DiffusionResultPtr& result, const core::HeatmapFilter& f)
{
    FilteredMaps maps;
    try {
        const auto& h = result->heatmaps;
        maps.grid = core::wordMapsFrom(h, core::aggregateHeatmaps(h, f));
        maps.images = core::resizeMaps(maps.grid, result->height, result->width, true);
    } catch (const std::exception& e) {
        maps.error = QString::fromStdString(e.what());
    }
    return maps;
}

}  // namespace

void ImageView::recomputeMaps()
{
    if (!m_result || m_result->heatmaps.layers.empty()) return refresh();
    const auto& h = m_result->heatmaps;
    const core::HeatmapFilter f = filter();
    m_head->setEnabled(m_step->value() < 0);
    m_stepLabel->setText(m_step->value() < 0 ? tr("every UNet call (sum, as DAAM)")
                                             : tr("call %1 of %2 (t = %3), heads averaged")
                                                   .arg(m_step->value() + 1)
                                                   .arg(h.callMaps.size())
                                                   .arg(m_result->timesteps[static_cast<size_t>(m_step->value())]));
    const quint64 generation = ++m_mapsGeneration;
    if (f.layers.empty() && f.heads.empty() && m_step->value() < 0) {  // DAAM's own maps, computed with the image
        m_mapsPending = false;
        m_wordGrid = h.wordMaps;
        m_wordImages = h.wordMapsImage;
        return refresh();
    }
    m_mapsPending = true;
    QtConcurrent::run([result = m_result, f] {
        return filteredMaps(result, f);
    }).then(this, [this, generation](const FilteredMaps& maps) {
        if (generation != m_mapsGeneration) return;  // a newer filter is on its way
        m_mapsPending = false;
        if (!maps.error.isEmpty()) emit message(maps.error);
        m_wordGrid = maps.grid;
        m_wordImages = maps.images;
        refresh();
    });
}

QImage ImageView::baseImage() const
{
    return m_result ? imageFromRgb(m_result->rgb, m_result->width, m_result->height) : m_preview;
}

QImage ImageView::overlayFor(int word) const
{
    if (!m_result || word < 0 || m_wordImages.numel() == 0 || word >= static_cast<int>(m_wordImages.shape[0]))
        return baseImage();
    core::OverlayOptions o;
    o.colormap = m_colormap->currentText().toStdString();
    o.alpha = m_opacity->value() / 100.0;
    if (m_thresholdOn->isChecked()) o.threshold = m_threshold->value();
    const auto pixels = static_cast<size_t>(m_result->width) * static_cast<size_t>(m_result->height);
    const auto rgb = core::overlayHeatmap(m_result->rgb, m_result->width, m_result->height,
                                          m_wordImages.values.data() + static_cast<size_t>(word) * pixels, o);
    return imageFromRgb(rgb, m_result->width, m_result->height);
}

void ImageView::refresh()
{
    if (!m_result) return;
    m_shown = overlayFor(m_word);
    if (m_gridToggle->isChecked()) {
        while (QLayoutItem* item = m_grid->takeAt(0)) {
            delete item->widget();
            delete item;
        }
        const auto& words = m_result->heatmaps.words;
        const int columns = 4;
        const int cell = std::max(96, (m_gridArea->viewport()->width() - 40) / columns);
        for (int i = 0; i < static_cast<int>(words.size()); ++i) {
            auto* box = new QWidget;
            auto* v = new QVBoxLayout(box);
            auto* picture = new QLabel;
            picture->setPixmap(fitted(overlayFor(i), QSize(cell, cell)));
            auto* caption = new QLabel(QString::fromStdString(words[static_cast<size_t>(i)].word));
            caption->setAlignment(Qt::AlignCenter);
            v->addWidget(picture);
            v->addWidget(caption);
            m_grid->addWidget(box, i / columns, i % columns);
        }
        m_stack->setCurrentWidget(m_gridArea);
    } else {
        m_stack->setCurrentWidget(m_canvas);
        m_canvas->setPixmap(fitted(m_shown, m_canvas->size()));
    }
}

void ImageView::selectWord(int index)
{
    m_wordList->setCurrentRow(index);
}

QStringList ImageView::words() const
{
    QStringList out;
    if (m_result)
        for (const auto& w : m_result->heatmaps.words) out << QString::fromStdString(w.word);
    return out;
}

void ImageView::setOpacity(double alpha)
{
    m_opacity->setValue(static_cast<int>(alpha * 100 + 0.5));
}
void ImageView::setColormap(const QString& name)
{
    m_colormap->setCurrentText(name);
}
void ImageView::setThreshold(std::optional<double> threshold)
{
    if (threshold) m_threshold->setValue(*threshold);
    m_thresholdOn->setChecked(threshold.has_value());
}
void ImageView::setStep(int call)
{
    m_step->setValue(call);
}
void ImageView::setLayerFilter(int index)
{
    m_layers->setCurrentIndex(index);
}
int ImageView::layerFilterCount() const
{
    return m_layers->count();
}
void ImageView::setGridShown(bool shown)
{
    m_gridToggle->setChecked(shown);
}
int ImageView::gridCellCount() const
{
    return m_grid->count();
}

QString ImageView::exportTo(const QString& dirPath) const
{
    if (!m_result) return tr("Generate an image first.");
    const QDir dir(dirPath);
    if (!dir.exists() && !QDir().mkpath(dirPath)) return tr("%1: cannot create the folder").arg(dirPath);
    try {
        // The A1111 "parameters" text of the run, so that the image can be reproduced elsewhere.
        core::writeRgbPng(m_result->rgb, m_result->width, m_result->height,
                          dir.filePath(QStringLiteral("image.png")).toStdString(),
                          core::formatGenerationParameters(core::generationParametersOf(
                              m_lastRequest.options, *m_result,
                              QFileInfo(m_lastRequest.modelPath).completeBaseName().toStdString())));
        QJsonArray words;
        const auto& list = m_result->heatmaps.words;
        QString csv = QStringLiteral("word,y,x,value\n");
        const int gw = m_wordGrid.numel() ? static_cast<int>(m_wordGrid.shape[2]) : 0;
        const int gh = m_wordGrid.numel() ? static_cast<int>(m_wordGrid.shape[1]) : 0;
        for (int i = 0; i < static_cast<int>(list.size()); ++i) {
            const QString file = QStringLiteral("overlay-%1.png").arg(i, 2, 10, QLatin1Char('0'));
            const QImage overlay = overlayFor(i).convertToFormat(QImage::Format_RGB888);
            if (!overlay.save(dir.filePath(file))) return tr("%1: cannot write").arg(dir.filePath(file));
            words.append(
                QJsonObject{{QStringLiteral("word"), QString::fromStdString(list[static_cast<size_t>(i)].word)},
                            {QStringLiteral("overlay"), file}});
            for (int y = 0; y < gh; ++y)
                for (int x = 0; x < gw; ++x)
                    csv += QStringLiteral("%1,%2,%3,%4\n")
                               .arg(csvField(QString::fromStdString(list[static_cast<size_t>(i)].word)))
                               .arg(y)
                               .arg(x)
                               .arg(m_wordGrid.values[(static_cast<size_t>(i) * gh + y) * gw + x], 0, 'g', 8);
        }
        if (const QString error = exportText(csv, dir.filePath(QStringLiteral("word_maps.csv"))); !error.isEmpty())
            return error;
        const QJsonObject index{{QStringLiteral("image"), QStringLiteral("image.png")},
                                {QStringLiteral("prompt"), m_prompt->toPlainText()},
                                {QStringLiteral("scheduler"), QString::fromStdString(m_result->scheduler)},
                                {QStringLiteral("layers"), m_layers->currentText()},
                                {QStringLiteral("head"), m_head->value()},
                                {QStringLiteral("step"), m_step->value()},
                                {QStringLiteral("colormap"), m_colormap->currentText()},
                                {QStringLiteral("opacity"), m_opacity->value() / 100.0},
                                {QStringLiteral("words"), words}};
        return exportText(QString::fromUtf8(QJsonDocument(index).toJson()), dir.filePath(QStringLiteral("index.json")));
    } catch (const std::exception& e) {
        return QString::fromStdString(e.what());
    }
}

}  // namespace spyglass::ui
