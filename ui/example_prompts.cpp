#include "example_prompts.h"

namespace spyglass::ui {

const QVector<ExamplePrompt>& examplePrompts()
{
    // Each sentence was checked on the default model (resources/models/spyglass-tiny/README.md).
    static const QVector<ExamplePrompt> examples{
        {QStringLiteral("Counting"), QStringLiteral("1, 2, 3, 4, 5, 6, 7,"), 12,
         QStringLiteral(
             "Logit lens: after a digit the comma is ranked first from block 1–2; the next digit only at block 3–4. "
             "Factors: the commas share one factor, digits others; new ones appear at 10 and 11.")},
        {QStringLiteral("Counting past 100"), QStringLiteral("95, 96, 97, 98,"), 12,
         QStringLiteral("Watch the step from 99 to 100 in the lens, and which factors take the three-digit numbers.")},
        {QStringLiteral("Addition (not learned)"), QStringLiteral("27 + 45 ="), 4,
         QStringLiteral("The model writes a number of the right shape but the wrong value: saliency shows which "
                        "operand digits it looks at.")},
        {QStringLiteral("Birth year"), QStringLiteral("William Shakespeare was born in"), 6,
         QStringLiteral("Saliency: the year's later digits draw 15–25% from the name's tokens; the first digit looks "
                        "at “ born in”.")},
        {QStringLiteral("Country list"), QStringLiteral("Countries in Europe: France, Germany,"), 10,
         QStringLiteral("Factors: every country name has the same strongest factor.")},
        {QStringLiteral("Multi-line text"), QStringLiteral("Days of the week:\n- Monday\n- Tuesday\n"), 12,
         QStringLiteral("Factors: every line break has the same strongest factor (a newline factor).")},
        {QStringLiteral("Brackets"), QStringLiteral("f((x + [a, b]) * (y - 2"), 6,
         QStringLiteral("Factors: one factor for opening brackets, another for closing ones.")},
        {QStringLiteral("Prose"), QStringLiteral("In the beginning God created"), 10,
         QStringLiteral("Factors: the first tokens get a factor of their own (the first-token factor).")},
    };
    return examples;
}

}  // namespace spyglass::ui
