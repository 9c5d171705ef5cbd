#include "pages/prompt_lab_view.h"

#include "pages/image_inputs.h"
#include "pages/lora_list.h"

#include <QFileInfo>
#include <QSaveFile>
#include "run_controller.h"
#include "views/figure_export.h"

#include "pages/region_canvas.h"
#include "spyglass/heatmap_overlay.h"
#include "views/plot_helpers.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QPainter>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace spyglass::ui {

namespace {

QPixmap enlarged(const QImage& image, int side)
{
    if (image.isNull()) return {};
    return QPixmap::fromImage(image.scaled(image.size().scaled(side, side, Qt::KeepAspectRatio), Qt::KeepAspectRatio,
                                           image.width() < side ? Qt::FastTransformation : Qt::SmoothTransformation));
}

}  // namespace

PromptLabView::PromptLabView(RunController* controller, QWidget* parent)
    : Page(parent),
      m_modelPath(new QLineEdit),
      m_loras(new LoraList),
      m_base(new QLineEdit),
      m_append(new QPlainTextEdit),
      m_separator(new QLineEdit(QStringLiteral(","))),
      m_seeds(new QLineEdit(QStringLiteral("0"))),
      m_steps(new QSpinBox),
      m_guidance(new QDoubleSpinBox),
      m_threshold(new QDoubleSpinBox),
      m_addOne(new QCheckBox(tr("also base + each chunk"))),
      m_run(new QPushButton(tr("Run the lab"))),
      m_brush(new QCheckBox(tr("Brush"))),
      m_brushRadius(new QSpinBox),
      m_canvas(new RegionCanvas),
      m_table(new QTableWidget),
      m_variant(new QLabel),
      m_shortened(new QLabel),
      m_summary(new QLabel)
{
    m_modelPath->setPlaceholderText(tr("diffusers Stable Diffusion / SDXL folder, or a single-file .safetensors"));
    auto* browse = new QPushButton(tr("Open…"));
    auto* fromPng = new QPushButton(tr("From PNG…"));
    fromPng->setToolTip(tr("Fill the lab from an AUTOMATIC1111 / Forge PNG's parameters (or drop the PNG here)"));
    auto* modelRow = new QHBoxLayout;
    modelRow->addWidget(new QLabel(tr("Image model:")));
    modelRow->addWidget(m_modelPath, 1);
    modelRow->addWidget(browse);
    modelRow->addWidget(fromPng);
    setAcceptDrops(true);
    connect(fromPng, &QPushButton::clicked, this, [this] {
        const QString png = QFileDialog::getOpenFileName(this, tr("Parameters from PNG"), QString(), tr("PNG (*.png)"));
        if (!png.isEmpty()) (void)applyParametersFrom(png);
    });
    m_base->setPlaceholderText(tr("Base prompt, e.g. a photo of a hand"));
    m_append->setPlaceholderText(tr("Appended magic prompt, e.g. masterpiece, best quality, (detailed hands:1.2), 8k"));
    m_append->setMaximumHeight(60);
    m_separator->setMaximumWidth(40);
    m_steps->setRange(1, 1000);
    m_steps->setValue(20);
    m_guidance->setRange(0, 30);
    m_guidance->setValue(7.5);
    m_threshold->setRange(0.001, 1);
    m_threshold->setDecimals(3);
    m_threshold->setSingleStep(0.005);
    m_threshold->setValue(0.02);
    m_threshold->setToolTip(tr("RMS colour change (0…1) that counts as an effect"));
    auto* settings = new QHBoxLayout;
    for (auto [label, widget] : std::initializer_list<std::pair<QString, QWidget*>>{{tr("Split by"), m_separator},
                                                                                    {tr("Seeds"), m_seeds},
                                                                                    {tr("Steps"), m_steps},
                                                                                    {tr("Guidance"), m_guidance},
                                                                                    {tr("Threshold"), m_threshold}}) {
        settings->addWidget(new QLabel(label));
        settings->addWidget(widget);
    }
    settings->addWidget(m_addOne);
    settings->addStretch(1);
    settings->addWidget(m_run);

    const QStringList headers{tr("chunk"),     tr("verdict"),        tr("change in region"), tr("outside"),
                              tr("1−SSIM in"), tr("heat in region"), tr("others' heat Δ")};
    m_table->setColumnCount(static_cast<int>(headers.size()));
    m_table->setHorizontalHeaderLabels(headers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_table->verticalHeader()->setVisible(true);
    m_shortened->setWordWrap(true);
    m_shortened->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setWordWrap(true);

    auto* left = new QWidget;
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->addWidget(new QLabel(tr("Full prompt — drag (or paint) the region of interest:")));
    leftLayout->addWidget(m_canvas, 1);
    auto* brushRow = new QHBoxLayout;
    m_brush->setToolTip(tr("Paint the region instead of dragging a rectangle"));
    m_brushRadius->setRange(1, 64);
    m_brushRadius->setValue(3);
    m_brushRadius->setSuffix(tr(" px"));
    brushRow->addWidget(m_brush);
    brushRow->addWidget(m_brushRadius);
    brushRow->addStretch(1);
    leftLayout->addLayout(brushRow);
    auto* exportButton = new QPushButton(tr("Export report…"));
    leftLayout->addWidget(exportButton);
    auto* right = new QWidget;
    auto* rightLayout = new QVBoxLayout(right);
    m_table->setMinimumHeight(160);
    rightLayout->addWidget(m_table, 1);
    rightLayout->addWidget(m_variant);
    rightLayout->addWidget(m_summary);
    rightLayout->addWidget(m_shortened);
    auto* splitter = new QSplitter;
    splitter->addWidget(left);
    splitter->addWidget(right);
    splitter->setStretchFactor(1, 2);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(modelRow);
    layout->addWidget(m_loras);
    layout->addWidget(m_base);
    layout->addWidget(m_append);
    layout->addLayout(settings);
    layout->addWidget(splitter, 1);

    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = chooseImageModel(this, m_modelPath->text());
        if (!path.isEmpty()) m_modelPath->setText(path);
    });
    connect(m_run, &QPushButton::clicked, this, &PromptLabView::runPage);
    connect(this, &PromptLabView::runRequested, controller,
            [controller](const LabRequest& r) { controller->runLab(r); });
    connect(controller, &RunController::runStarted, this, [this] { setBusy(true); });
    connect(controller, &RunController::runFinished, this, [this] { setBusy(false); });
    connect(controller, &RunController::labReady, this, &PromptLabView::setResult);
    // A new region re-scores: every image is cached on the worker.
    connect(m_canvas, &RegionCanvas::regionChanged, this, [this] {
        if (m_result) emit runRequested(request());
    });
    auto brush = [this] { m_canvas->setBrush(m_brush->isChecked(), m_brushRadius->value()); };
    connect(m_brush, &QCheckBox::toggled, this, brush);
    connect(m_brushRadius, &QSpinBox::valueChanged, this, brush);
    connect(m_table, &QTableWidget::currentCellChanged, this, &PromptLabView::showVariant);
    connect(exportButton, &QPushButton::clicked, this, [this] {
        if (!m_result) return emit message(tr("Run the lab first."));
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Export the lab's report to"));
        if (dir.isEmpty()) return;
        LabRequest r = request();
        r.exportDir = dir;
        emit runRequested(r);
    });
}

void PromptLabView::runPage()
{
    if (!m_run->isEnabled()) return;
    if (m_modelPath->text().trimmed().isEmpty()) return emit message(tr("Choose an image model folder first (Open…)."));
    emit runRequested(request());  // LoRA tags are resolved where the run goes (RunController)
}

bool PromptLabView::applyParametersFrom(const QString& png)
{
    const PngParameters p = readPngParameters(png);
    if (!p.error.isEmpty()) {
        emit message(p.error);
        return false;
    }
    const core::DiffusionOptions& o = p.options;
    const std::string separator = m_separator->text().isEmpty() ? "," : m_separator->text().toStdString();
    const size_t cut = o.prompt.find(separator);
    m_base->setText(QString::fromStdString(o.prompt.substr(0, cut)).trimmed());
    m_append->setPlainText(cut == std::string::npos
                               ? QString()
                               : QString::fromStdString(o.prompt.substr(cut + separator.size())).trimmed());
    m_seeds->setText(QString::number(o.seed));
    m_steps->setValue(o.steps);
    m_guidance->setValue(o.guidance);
    m_fromPng = o;
    QStringList used;
    if (!o.negativePrompt.empty()) used << tr("negative prompt '%1'").arg(QString::fromStdString(o.negativePrompt));
    if (!o.scheduler.empty()) used << tr("sampler %1").arg(QString::fromStdString(o.scheduler));
    if (o.width > 0) used << tr("size %1x%2").arg(o.width).arg(o.height);
    QStringList notes = p.notes;
    if (o.clipSkip > 1) notes << tr("Clip skip %1 is not used by the lab").arg(o.clipSkip);
    m_summary->setText(tr("From %1 — also used: %2. %3")
                           .arg(QFileInfo(png).fileName(),
                                used.isEmpty() ? tr("nothing else") : used.join(QStringLiteral(", ")),
                                notes.join(QStringLiteral("; "))));
    emit message(tr("Lab settings taken from %1").arg(QFileInfo(png).fileName()));
    return true;
}

void PromptLabView::dragEnterEvent(QDragEnterEvent* event)
{
    if (!droppedPng(event->mimeData()).isEmpty()) event->acceptProposedAction();
}

void PromptLabView::dropEvent(QDropEvent* event)
{
    const QString png = droppedPng(event->mimeData());
    if (png.isEmpty()) return;
    event->acceptProposedAction();
    (void)applyParametersFrom(png);
}

QString PromptLabView::exportView(const QString& path, int dpi)
{
    if (!m_result) return tr("Run the lab first.");
    if (QFileInfo(path).suffix().toLower() == QLatin1String("png")) {
        QSaveFile file(path);
        if (!file.open(QIODevice::WriteOnly) || !grab().toImage().save(&file, "PNG") || !file.commit())
            return tr("%1: cannot write").arg(path);
        return {};
    }
    return exportFigure(this, path, dpi, {});
}

LabRequest PromptLabView::request() const
{
    LabRequest r;
    r.modelPath = m_modelPath->text().trimmed();
    core::LabOptions& o = r.options;
    o.base = m_base->text().toStdString();
    try {
        o.chunks = core::splitChunks(m_append->toPlainText().toStdString(),
                                     m_separator->text().isEmpty() ? "," : m_separator->text().toStdString());
    } catch (const std::exception&) {
        o.chunks.clear();
    }
    o.seeds.clear();
    for (const QString& s : m_seeds->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const qulonglong seed = s.trimmed().toULongLong(&ok);
        if (ok) o.seeds.push_back(seed);
    }
    if (o.seeds.empty()) o.seeds.push_back(0);
    o.steps = m_steps->value();
    o.guidance = m_guidance->value();
    o.changeThreshold = m_threshold->value();
    o.addOne = m_addOne->isChecked();
    if (m_result && !m_canvas->image().isNull()) r.mask = m_canvas->mask();
    if (m_fromPng) {
        o.negative = m_fromPng->negativePrompt;
        o.scheduler = m_fromPng->scheduler;
        o.width = m_fromPng->width;
        o.height = m_fromPng->height;
    }
    r.load.loras = m_loras->loras();
    return r;
}

void PromptLabView::setModelPath(const QString& path)
{
    m_modelPath->setText(path);
}
void PromptLabView::setBase(const QString& base)
{
    m_base->setText(base);
}
void PromptLabView::setAppended(const QString& appended)
{
    m_append->setPlainText(appended);
}
void PromptLabView::setSeeds(const QString& seeds)
{
    m_seeds->setText(seeds);
}
void PromptLabView::setSteps(int steps)
{
    m_steps->setValue(steps);
}
void PromptLabView::setBusy(bool busy)
{
    m_run->setEnabled(!busy);
}

void PromptLabView::setResult(const LabResultPtr& result)
{
    const bool sameImage = m_result && m_result->full == result->full;
    m_result = result;
    if (!sameImage) m_canvas->setImage(imageFromRgb(result->full, result->width, result->height));
    const core::LabReport& r = result->report;
    m_table->setRowCount(static_cast<int>(r.scores.size()));
    for (int i = 0; i < static_cast<int>(r.scores.size()); ++i) {
        const core::ChunkScore& s = r.scores[static_cast<size_t>(i)];
        const QStringList cells{QString::fromStdString(s.chunk),
                                QString::fromStdString(core::nameString(s.verdict)),
                                QStringLiteral("%1 ± %2").arg(s.inside, 0, 'f', 4).arg(s.insideSpread, 0, 'f', 4),
                                QString::number(s.outside, 'f', 4),
                                QString::number(s.structureInside, 'f', 3),
                                QStringLiteral("%1%").arg(100 * s.heatInside, 0, 'f', 1),
                                QString::number(s.otherHeatChange, 'f', 3)};
        for (int c = 0; c < static_cast<int>(cells.size()); ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            if (c == 1) {
                const QColor colour = s.verdict == core::Verdict::ChangesRegion      ? QColor(255, 205, 160)
                                      : s.verdict == core::Verdict::ChangesElsewhere ? QColor(200, 220, 255)
                                                                                     : QColor(215, 240, 200);
                item->setBackground(colour);
                item->setForeground(Qt::black);
            }
            if (c >= 2) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_table->setItem(i, c, item);
        }
    }
    m_table->resizeColumnsToContents();
    m_summary->setText(tr("%1 chunks · %2 seed(s) · region %3% of the image · an effect is an RMS change above %4")
                           .arg(r.scores.size())
                           .arg(result->options.seeds.size())
                           .arg(100 * r.regionArea, 0, 'f', 1)
                           .arg(r.changeThreshold));
    m_shortened->setText(tr("<b>Shortened prompt</b> (only chunks with an effect): %1<br>vs the full prompt: change %2 "
                            "in the region, %3 outside")
                             .arg(QString::fromStdString(r.shortenedPrompt).toHtmlEscaped())
                             .arg(r.shortenedInside, 0, 'f', 4)
                             .arg(r.shortenedOutside, 0, 'f', 4));
    if (m_table->rowCount() > 0) selectRow(std::max(0, m_table->currentRow()));
    showVariant();
}

void PromptLabView::selectRow(int row)
{
    m_table->setCurrentCell(row, 0);
}

void PromptLabView::showVariant()
{
    if (!m_result || m_table->currentRow() < 0 ||
        m_table->currentRow() >= static_cast<int>(m_result->report.scores.size()))
        return;
    const core::ChunkScore& s = m_result->report.scores[static_cast<size_t>(m_table->currentRow())];
    const int w = m_result->width, h = m_result->height;
    const auto& without = m_result->without[static_cast<size_t>(s.index)];
    const QImage a = imageFromRgb(without, w, h);
    const QImage b = imageFromRgb(core::differenceImage(m_result->full, without, w, h), w, h);
    const QImage s3 = imageFromRgb(m_result->shortened, w, h);
    const int side = 140;
    QImage strip(side * 3 + 8, side + 18, QImage::Format_RGB888);
    strip.fill(palette().color(QPalette::Window));
    QPainter painter(&strip);
    painter.setPen(palette().color(QPalette::WindowText));
    painter.drawPixmap(0, 18, enlarged(a, side));
    painter.drawPixmap(side + 4, 18, enlarged(b, side));
    painter.drawPixmap(2 * side + 8, 18, enlarged(s3, side));
    painter.drawText(QRect(0, 0, side, 16), Qt::AlignCenter, tr("without the chunk"));
    painter.drawText(QRect(side + 4, 0, side, 16), Qt::AlignCenter, tr("difference"));
    painter.drawText(QRect(2 * side + 8, 0, side, 16), Qt::AlignCenter, tr("shortened prompt"));
    painter.end();
    m_variantImage = strip;
    m_variant->setPixmap(QPixmap::fromImage(strip));
}

QImage PromptLabView::variantImage() const
{
    return m_variantImage;
}

}  // namespace spyglass::ui
