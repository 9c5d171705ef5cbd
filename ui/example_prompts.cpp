#include "example_prompts.h"

namespace spyglass::ui {

const QVector<ExamplePrompt>& examplePrompts()
{
    static const QVector<ExamplePrompt> examples{
        {QStringLiteral("Counting"), QStringLiteral("1, 2, 3, 4, 5, 6, 7,"), 12,
         QStringLiteral("Logit lens: commas are predicted from early layers, digits only in deeper ones. Factors: a comma factor and a digit factor.")},
        {QStringLiteral("Counting past 100"), QStringLiteral("95, 96, 97, 98,"), 12,
         QStringLiteral("Watch the step from 99 to 100 in the lens and which factor takes over for three-digit numbers.")},
        {QStringLiteral("Addition"), QStringLiteral("27 + 45 ="), 4,
         QStringLiteral("Saliency: which digits of the operands each answer digit looks at.")},
        {QStringLiteral("Birth year"), QStringLiteral("William Shakespeare was born in"), 6,
         QStringLiteral("Saliency concentrates on the name when the year is generated.")},
        {QStringLiteral("Country list"), QStringLiteral("Countries in Europe: France, Germany,"), 10,
         QStringLiteral("Factors: one factor is devoted to country names.")},
        {QStringLiteral("Multi-line text"), QStringLiteral("Days of the week:\n- Monday\n- Tuesday\n"), 12,
         QStringLiteral("Factors: a newline factor lights up on the line breaks.")},
        {QStringLiteral("Brackets"), QStringLiteral("f((x + [a, b]) * (y - 2"), 6,
         QStringLiteral("Factors: a bracket factor; the lens shows when the closing bracket becomes likely.")},
        {QStringLiteral("Prose"), QStringLiteral("In the beginning God created"), 10,
         QStringLiteral("The first-token factor: almost every factorisation gives the first token a factor of its own.")},
    };
    return examples;
}

}  // namespace spyglass::ui
