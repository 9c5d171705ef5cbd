#pragma once
// LoraList — the LoRAs of an image model: one row per kohya .safetensors file with a strength
// slider (0 … 2, 1 = as trained) and a remove button, and "Add LoRA…". The Image and Prompt lab
// tabs send the list with each run; the inference thread reloads the model when it changed.
#include "spyglass/diffusion.h"

#include <QWidget>

#include <vector>

class QVBoxLayout;

namespace spyglass::ui {

class LoraList : public QWidget {
    Q_OBJECT
public:
    explicit LoraList(QWidget* parent = nullptr);

    [[nodiscard]] std::vector<core::DiffusionLoadOptions::Lora> loras() const;
    // Adds `path` at `strength` (0 … 2), or sets the strength of the row already holding it.
    void addLora(const QString& path, double strength = 1.0);
    void clear();
    [[nodiscard]] int count() const { return static_cast<int>(m_rows.size()); }

signals:
    void changed();

private:
    struct Row {
        QString path;
        QWidget* widget = nullptr;
        class QSlider* slider = nullptr;
    };
    void remove(QWidget* row);
    QVBoxLayout* m_rowsLayout;
    std::vector<Row> m_rows;
};

}  // namespace spyglass::ui
