#pragma once
// Example prompts for the default model, each with what to look at (the app's Examples menu).
#include <QString>
#include <QVector>

namespace spyglass::ui {

struct ExamplePrompt {
    QString title;
    QString prompt;
    int maxNewTokens = 8;
    QString lookAt;  // one sentence: what the views show
};

[[nodiscard]] const QVector<ExamplePrompt>& examplePrompts();

}  // namespace spyglass::ui
