#include "pages/language_model_path.h"

#include <QCursor>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>

namespace spyglass::ui {

LanguageModelPath::LanguageModelPath(QWidget* parent) : QWidget(parent), m_edit(new QLineEdit)
{
    m_edit->setPlaceholderText(tr("Hugging Face model folder, GGUF file (.gguf) or llama2.c checkpoint (.bin)"));
    auto* browse = new QPushButton(tr("Open…"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_edit, 1);
    layout->addWidget(browse);
    connect(browse, &QPushButton::clicked, this, &LanguageModelPath::choose);
}

QString LanguageModelPath::path() const
{
    return m_edit->text().trimmed();
}

void LanguageModelPath::setPath(const QString& path)
{
    m_edit->setText(path);
}

void LanguageModelPath::choose()
{
    // A model is a folder (Hugging Face) or a file (GGUF, llama2.c): ask which.
    QMenu menu;
    QAction* folder = menu.addAction(tr("Model folder (config.json, model.safetensors)…"));
    QAction* file = menu.addAction(tr("Model file (.gguf, llama2.c .bin)…"));
    QAction* chosen = menu.exec(QCursor::pos());
    QString path;
    if (chosen == folder) {
        path = QFileDialog::getExistingDirectory(this, tr("Open model folder"), m_edit->text());
    } else if (chosen == file) {
        path = QFileDialog::getOpenFileName(this, tr("Open model file"), m_edit->text(),
                                            tr("Model files (*.gguf *.bin);;All files (*)"));
    }
    if (!path.isEmpty()) m_edit->setText(path);
}

}  // namespace spyglass::ui
