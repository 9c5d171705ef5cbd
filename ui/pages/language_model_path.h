#pragma once
// LanguageModelPath — the "model" row of the language-model tabs (Language model, Patching,
// Compare A/B): the path field and Open…, which asks whether to open a folder (Hugging Face) or a
// file (GGUF, llama2.c) and fills the field.
#include <QWidget>

class QLineEdit;

namespace spyglass::ui {

class LanguageModelPath : public QWidget {
    Q_OBJECT
public:
    explicit LanguageModelPath(QWidget* parent = nullptr);

    [[nodiscard]] QString path() const;  // trimmed
    void setPath(const QString& path);
    [[nodiscard]] QLineEdit* edit() const { return m_edit; }

private:
    void choose();
    QLineEdit* m_edit;
};

}  // namespace spyglass::ui
