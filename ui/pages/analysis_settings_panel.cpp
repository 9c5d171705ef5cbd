#include "pages/analysis_settings_panel.h"

#include "pages/intervention_list.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>

#include <cmath>
#include <limits>
#include <sstream>

namespace spyglass::ui {

namespace {

constexpr int kAllMethods = -1;     // the saliency combo's "all four"
constexpr double kAlphaStep = 0.5;  // the steering slider moves α in these steps, −20 … 20

template <typename E>
void fillNames(QComboBox* box)
{
    for (E value : core::allValues<E>())
        box->addItem(QString::fromStdString(core::nameString(value)), static_cast<int>(value));
}

template <typename E>
E chosen(const QComboBox* box)
{
    return static_cast<E>(box->currentData().toInt());
}

template <typename E>
void choose(QComboBox* box, E value)
{
    box->setCurrentIndex(std::max(0, box->findData(static_cast<int>(value))));
}

}  // namespace

AnalysisSettingsPanel::AnalysisSettingsPanel(QWidget* parent)
    : QWidget(parent),
      m_maxTokens(new QSpinBox),
      m_temperature(new QDoubleSpinBox),
      m_sampleTopK(new QSpinBox),
      m_topP(new QDoubleSpinBox),
      m_seed(new QSpinBox),
      m_saliencyMethod(new QComboBox),
      m_saliencyTarget(new QComboBox),
      m_lensMode(new QComboBox),
      m_topK(new QSpinBox),
      m_factorCount(new QSpinBox),
      m_projectionLayer(new QSpinBox),
      m_interventions(new InterventionList),
      m_steerFile(new QLineEdit),
      m_steerLayer(new QSpinBox),
      m_steerAlpha(new QSlider(Qt::Horizontal)),
      m_steerAlphaText(new QLabel),
      m_modelInfo(new QLabel(tr("(run to load the model)")))
{
    m_maxTokens->setRange(1, 512);
    m_temperature->setRange(0, 5);
    m_temperature->setSingleStep(0.1);
    m_temperature->setSpecialValueText(tr("0 (greedy)"));
    m_temperature->setToolTip(tr("0: greedy, as Ecco. Above 0: sample; every view explains the token actually drawn."));
    m_sampleTopK->setRange(0, 100000);
    m_sampleTopK->setSpecialValueText(tr("off"));
    m_topP->setRange(0.01, 1);
    m_topP->setSingleStep(0.05);
    m_seed->setRange(0, std::numeric_limits<int>::max());
    m_seed->setToolTip(tr("Seed for sampling, NMF and k-means: the same seed gives the same run"));
    fillNames<core::SaliencyMethod>(m_saliencyMethod);
    m_saliencyMethod->addItem(tr("all four"), kAllMethods);
    fillNames<core::SaliencyTarget>(m_saliencyTarget);
    fillNames<core::LensMode>(m_lensMode);
    m_topK->setRange(1, 100);
    m_factorCount->setRange(0, 50);
    m_factorCount->setSpecialValueText(tr("auto (min(10, positions))"));
    m_projectionLayer->setRange(-1, 1000);
    m_projectionLayer->setSpecialValueText(tr("last"));
    connect(m_interventions, &InterventionList::changed, this, &AnalysisSettingsPanel::interventionsChanged);
    m_steerFile->setPlaceholderText(tr("none — a .safetensors with “vector”"));
    m_steerFile->setToolTip(
        tr("A steering vector (spyglass-cli steer-vector makes one from two prompt sets or a "
           "factor): α · vector is added to the residual stream entering the chosen layer at "
           "every position while the model generates"));
    m_steerLayer->setRange(0, 1000);
    m_steerAlpha->setRange(-40, 40);  // α = value · kAlphaStep
    m_steerAlpha->setPageStep(2);
    m_steerAlpha->setToolTip(tr("Steering strength α; releasing the slider re-runs in the background"));
    auto showAlpha = [this] { m_steerAlphaText->setText(QString::number(m_steerAlpha->value() * kAlphaStep, 'f', 1)); };
    connect(m_steerAlpha, &QSlider::valueChanged, this, showAlpha);
    connect(m_steerAlpha, &QSlider::sliderReleased, this, &AnalysisSettingsPanel::steeringChanged);
    connect(m_steerAlpha, &QSlider::actionTriggered, this, [this](int action) {
        // Keyboard / page steps (not drags) change the value right after this signal.
        if (action != QAbstractSlider::SliderMove)
            QMetaObject::invokeMethod(this, &AnalysisSettingsPanel::steeringChanged, Qt::QueuedConnection);
    });
    showAlpha();
    auto updateSampling = [this] {
        const bool sampling = m_temperature->value() > 0;
        m_sampleTopK->setEnabled(sampling);
        m_topP->setEnabled(sampling);
    };
    connect(m_temperature, &QDoubleSpinBox::valueChanged, this, updateSampling);
    setSettings(AnalysisSettings{});
    updateSampling();

    auto* form = new QFormLayout(this);
    form->addRow(tr("New tokens"), m_maxTokens);
    form->addRow(tr("Temperature"), m_temperature);
    form->addRow(tr("Sample top-k"), m_sampleTopK);
    form->addRow(tr("Sample top-p"), m_topP);
    form->addRow(tr("Seed"), m_seed);
    form->addRow(tr("Saliency"), m_saliencyMethod);
    form->addRow(tr("Saliency target"), m_saliencyTarget);
    form->addRow(tr("Lens mode"), m_lensMode);
    form->addRow(tr("Lens top-k"), m_topK);
    form->addRow(tr("Factors"), m_factorCount);
    form->addRow(tr("Map layer"), m_projectionLayer);
    form->addRow(tr("Interventions"), m_interventions);
    auto* steerFileRow = new QHBoxLayout;
    auto* browseVector = new QPushButton(tr("…"));
    browseVector->setMaximumWidth(32);
    steerFileRow->addWidget(m_steerFile, 1);
    steerFileRow->addWidget(browseVector);
    connect(browseVector, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Steering vector"), m_steerFile->text(),
                                                          tr("Safetensors (*.safetensors);;All files (*)"));
        if (!path.isEmpty()) m_steerFile->setText(path);
    });
    form->addRow(tr("Steering vector"), steerFileRow);
    form->addRow(tr("Steer at layer"), m_steerLayer);
    auto* alphaRow = new QHBoxLayout;
    alphaRow->addWidget(m_steerAlpha, 1);
    alphaRow->addWidget(m_steerAlphaText);
    form->addRow(tr("Steering α"), alphaRow);
    m_modelInfo->setWordWrap(true);
    m_modelInfo->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(tr("Model"), m_modelInfo);
}

AnalysisSettings AnalysisSettingsPanel::settings() const
{
    AnalysisSettings s;
    s.maxNewTokens = m_maxTokens->value();
    s.temperature = m_temperature->value();
    s.sampleTopK = m_sampleTopK->value();
    s.topP = m_topP->value();
    s.seed = m_seed->value();
    if (m_saliencyMethod->currentData().toInt() == kAllMethods) {
        const auto all = core::allValues<core::SaliencyMethod>();
        s.saliencyMethods.assign(all.begin(), all.end());
    } else {
        s.saliencyMethods = {chosen<core::SaliencyMethod>(m_saliencyMethod)};
    }
    s.saliencyTarget = chosen<core::SaliencyTarget>(m_saliencyTarget);
    s.lensMode = chosen<core::LensMode>(m_lensMode);
    s.lensTopK = m_topK->value();
    s.factorCount = m_factorCount->value();
    s.projectionLayer = m_projectionLayer->value();
    for (const auto& [spec, on] : m_interventions->entries()) {
        std::string& list = on ? s.interventions : s.interventionsOff;
        list += (list.empty() ? "" : " ") + spec;
    }
    s.steerFile = m_steerFile->text().trimmed().toStdString();
    s.steerLayer = m_steerLayer->value();
    s.steerAlpha = m_steerAlpha->value() * kAlphaStep;
    return s;
}

void AnalysisSettingsPanel::setSettings(const AnalysisSettings& s)
{
    m_maxTokens->setValue(s.maxNewTokens);
    m_temperature->setValue(s.temperature);
    m_sampleTopK->setValue(s.sampleTopK);
    m_topP->setValue(s.topP);
    m_seed->setValue(s.seed);
    if (s.saliencyMethods.size() == 1)
        choose(m_saliencyMethod, s.saliencyMethods.front());
    else
        m_saliencyMethod->setCurrentIndex(m_saliencyMethod->findData(kAllMethods));
    choose(m_saliencyTarget, s.saliencyTarget);
    choose(m_lensMode, s.lensMode);
    m_topK->setValue(s.lensTopK);
    m_factorCount->setValue(s.factorCount);
    m_projectionLayer->setValue(s.projectionLayer);
    std::vector<std::pair<std::string, bool>> entries;
    for (const auto& [list, on] : {std::pair{&s.interventions, true}, std::pair{&s.interventionsOff, false}}) {
        std::istringstream specs(*list);
        for (std::string spec; specs >> spec;) entries.emplace_back(spec, on);
    }
    m_interventions->blockSignals(true);  // settings set by the program, not the user: no re-run
    m_interventions->setEntries(entries);
    m_interventions->blockSignals(false);
    m_steerFile->setText(QString::fromStdString(s.steerFile));
    m_steerLayer->setValue(s.steerLayer);
    m_steerAlpha->setValue(static_cast<int>(std::lround(s.steerAlpha / kAlphaStep)));
}

void AnalysisSettingsPanel::setSteeringAlpha(double alpha)
{
    m_steerAlpha->setValue(static_cast<int>(std::lround(alpha / kAlphaStep)));
    emit steeringChanged();
}

void AnalysisSettingsPanel::setModelInfo(const QString& text)
{
    m_modelInfo->setText(text);
}
QString AnalysisSettingsPanel::modelInfo() const
{
    return m_modelInfo->text();
}

}  // namespace spyglass::ui
