#pragma once
// AnalysisSettingsPanel — the language-model settings beside the language-model views: decoding
// (new tokens, temperature, sampling top-k / top-p, seed) and what to compute (saliency method and
// target, lens mode and top-k, factors, map layer). It edits one AnalysisSettings value.
#include "pages/analysis_settings.h"

#include <QWidget>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;
class QLineEdit;
class QSlider;

namespace spyglass::ui {

class InterventionList;

class AnalysisSettingsPanel : public QWidget {
    Q_OBJECT
public:
    explicit AnalysisSettingsPanel(QWidget* parent = nullptr);

    [[nodiscard]] AnalysisSettings settings() const;
    void setSettings(const AnalysisSettings& settings);
    // Shown under the settings: the model of the report on screen.
    void setModelInfo(const QString& text);
    [[nodiscard]] QString modelInfo() const;
    // Moves the steering slider (α, as the user would) and emits steeringChanged.
    void setSteeringAlpha(double alpha);
    [[nodiscard]] InterventionList* interventionList() const { return m_interventions; }

signals:
    // The steering strength was changed by the user (slider released, or a step by keyboard):
    // the page re-runs in the background with the new α.
    void steeringChanged();
    // The user added, removed or switched an intervention: the page re-runs with the new set.
    void interventionsChanged();

private:
    QSpinBox* m_maxTokens;
    QDoubleSpinBox* m_temperature;
    QSpinBox* m_sampleTopK;
    QDoubleSpinBox* m_topP;
    QSpinBox* m_seed;
    QComboBox* m_saliencyMethod;
    QComboBox* m_saliencyTarget;
    QComboBox* m_lensMode;
    QSpinBox* m_topK;
    QSpinBox* m_factorCount;
    QSpinBox* m_projectionLayer;
    InterventionList* m_interventions;
    QLineEdit* m_steerFile;
    QSpinBox* m_steerLayer;
    QSlider* m_steerAlpha;
    QLabel* m_steerAlphaText;
    QLabel* m_modelInfo;
};

}  // namespace spyglass::ui
