#include "train/corpus.h"

#include "io/json_file.h"
#include "spyglass/error.h"
#include "train/corpus_data.h"

#include <algorithm>
#include <sstream>

namespace spyglass::core {

const std::vector<std::string>& CorpusGenerator::taskNames()
{
    static const std::vector<std::string> names{"counting",  "addition", "lists", "facts",
                                                "multiline", "brackets", "prose"};
    return names;
}

CorpusGenerator::CorpusGenerator(CorpusMix mix, std::vector<std::string> prose, uint64_t seed)
    : m_mix(std::move(mix)), m_prose(std::move(prose)), m_rng(seed)
{
    std::vector<double> weights;
    for (const auto& [name, weight] : m_mix.weights) {
        if (std::find(taskNames().begin(), taskNames().end(), name) == taskNames().end())
            throw Error("unknown corpus task '" + name +
                        "' (counting, addition, lists, facts, multiline, brackets, prose)");
        if (weight < 0) throw Error("corpus task '" + name + "' has a negative weight");
        if (name == "prose" && m_prose.empty()) continue;
        m_tasks.push_back(name);
        weights.push_back(weight);
    }
    if (m_tasks.empty()) throw Error("the corpus mix selects no task");
    m_pick = std::discrete_distribution<size_t>(weights.begin(), weights.end());
}

std::string CorpusGenerator::next()
{
    const std::string& task = m_tasks[m_pick(m_rng)];
    if (task == "counting") return counting();
    if (task == "addition") return addition();
    if (task == "lists") return lists();
    if (task == "facts") return facts();
    if (task == "multiline") return multiline();
    if (task == "brackets") return brackets();
    return prose();
}

std::string CorpusGenerator::counting()
{
    // Mostly from 1 (so the model sees the step past 9, 99 …), else from anywhere up to the max.
    const int start = uniform(0, 3) == 0 ? 1 : uniform(1, m_mix.countingMaxStart);
    const int length = uniform(6, 40);
    std::string out;
    for (int i = 0; i < length; ++i) out += (i ? ", " : "") + std::to_string(start + i);
    return out;
}

std::string CorpusGenerator::addition()
{
    auto operand = [&] {
        const int digits = uniform(1, m_mix.additionMaxDigits);
        int lo = 1;
        for (int i = 1; i < digits; ++i) lo *= 10;
        return uniform(digits == 1 ? 0 : lo, lo * 10 - 1);
    };
    std::string out;
    const int problems = uniform(3, 8);
    for (int i = 0; i < problems; ++i) {
        const int a = operand(), b = operand();
        out += (i ? "\n" : "") + std::to_string(a) + " + " + std::to_string(b) + " = " + std::to_string(a + b);
    }
    return out;
}

std::string CorpusGenerator::lists()
{
    const auto& all = namedLists();
    const NamedList& list = all[static_cast<size_t>(uniform(0, static_cast<int>(all.size()) - 1))];
    std::vector<std::string> items = list.items;
    if (uniform(0, 9) < 3) {  // sometimes a shuffled subset: the category matters, not the order
        std::shuffle(items.begin(), items.end(), m_rng);
        items.resize(static_cast<size_t>(uniform(3, static_cast<int>(items.size()))));
    } else {
        items.resize(static_cast<size_t>(
            uniform(std::min<int>(4, static_cast<int>(items.size())), static_cast<int>(items.size()))));
    }
    std::string out = list.title + ": ";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
    return out + ".";
}

std::string CorpusGenerator::facts()
{
    const auto& all = birthYears();
    std::string out;
    const int count = uniform(1, 4);
    for (int i = 0; i < count; ++i) {
        const auto& [name, year] = all[static_cast<size_t>(uniform(0, static_cast<int>(all.size()) - 1))];
        out += (i ? " " : "") + name + " was born in " + std::to_string(year) + ".";
    }
    return out;
}

std::string CorpusGenerator::multiline()
{
    const int kind = uniform(0, 2);
    if (kind == 0) {
        const auto& list = namedLists()[static_cast<size_t>(uniform(0, static_cast<int>(namedLists().size()) - 1))];
        std::string out = list.title + ":\n";
        const int n = uniform(3, static_cast<int>(list.items.size()));
        for (int i = 0; i < n; ++i) out += "- " + list.items[static_cast<size_t>(i)] + "\n";
        return out;
    }
    if (kind == 1) {
        const auto& [name, year] =
            birthYears()[static_cast<size_t>(uniform(0, static_cast<int>(birthYears().size()) - 1))];
        return "Name: " + name + "\nBorn: " + std::to_string(year) + "\n";
    }
    std::string out;
    const int lines = uniform(2, 5);
    for (int i = 0; i < lines; ++i) out += (m_prose.empty() ? counting() : prose()) + "\n";
    return out;
}

std::string CorpusGenerator::bracketExpression(int depth)
{
    static const char* const kAtoms[] = {"x", "y", "a", "b", "1", "2", "3", "red", "blue", "cat", "dog"};
    static const char* const kOps[] = {" + ", " * ", " - ", ", "};
    if (depth <= 0 || uniform(0, 2) == 0) return kAtoms[uniform(0, 10)];
    const int kind = uniform(0, 2);
    const std::string open = kind == 0 ? "(" : kind == 1 ? "[" : "{";
    const std::string close = kind == 0 ? ")" : kind == 1 ? "]" : "}";
    std::string inner = bracketExpression(depth - 1);
    const int terms = uniform(1, 3);
    for (int i = 0; i < terms; ++i) inner += kOps[uniform(0, 3)] + bracketExpression(depth - 1);
    return open + inner + close;
}

std::string CorpusGenerator::brackets()
{
    std::string out;
    const int count = uniform(1, 3);
    for (int i = 0; i < count; ++i) {
        if (uniform(0, 1) == 0)
            out += (i ? " " : "") + std::string("f") + bracketExpression(3);
        else
            out += (i ? " " : "") + std::string("The value (as noted) is ") + bracketExpression(3) + ".";
    }
    return out;
}

std::string CorpusGenerator::prose()
{
    if (m_prose.empty()) return counting();
    const size_t start = static_cast<size_t>(uniform(0, static_cast<int>(m_prose.size()) - 1));
    const size_t lines = static_cast<size_t>(uniform(1, 4));
    std::string out;
    for (size_t i = start; i < std::min(m_prose.size(), start + lines); ++i) out += (i > start ? " " : "") + m_prose[i];
    return out;
}

ProseSplit readProse(const std::string& path, double heldOutFraction)
{
    const std::string text = readTextFile(path);
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        // `bible` output starts each verse with a reference such as "Ge1:1 ".
        const size_t space = line.find(' ');
        if (space != std::string::npos && space > 0 && line.find(':') < space &&
            std::isdigit(static_cast<unsigned char>(line[space - 1])))
            line = line.substr(space + 1);
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        lines.push_back(line);
    }
    if (lines.empty()) throw Error(path + ": no prose lines");
    ProseSplit split;
    size_t held = static_cast<size_t>(static_cast<double>(lines.size()) * heldOutFraction);
    if (held == 0 && heldOutFraction > 0 && lines.size() >= 2) held = 1;  // tiny files still hold one line out
    split.train.assign(lines.begin(), lines.end() - static_cast<long>(held));
    split.heldOut.assign(lines.end() - static_cast<long>(held), lines.end());
    return split;
}

}  // namespace spyglass::core
