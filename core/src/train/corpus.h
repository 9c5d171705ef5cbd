#pragma once
// CorpusGenerator — the built-in training text: counting, addition, lists, birth-year facts,
// multi-line text, bracketed text and public-domain prose, mixed by weight, seeded.
// Thread safety: one generator per thread.
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace spyglass::core {

struct CorpusMix {
    std::map<std::string, double> weights{{"counting", 3},  {"addition", 3}, {"lists", 1.5}, {"facts", 1.5},
                                          {"multiline", 1}, {"brackets", 1}, {"prose", 3}};
    int additionMaxDigits = 3;   // operands have 1 … this many digits
    int countingMaxStart = 150;  // sequences start anywhere in 1 … this
};

class CorpusGenerator {
public:
    // `prose` holds lines of prose (may be empty: then prose documents are skipped).
    CorpusGenerator(CorpusMix mix, std::vector<std::string> prose, uint64_t seed);

    [[nodiscard]] std::string next();  // one document
    [[nodiscard]] std::string counting();
    [[nodiscard]] std::string addition();
    [[nodiscard]] std::string lists();
    [[nodiscard]] std::string facts();
    [[nodiscard]] std::string multiline();
    [[nodiscard]] std::string brackets();
    [[nodiscard]] std::string prose();

    static const std::vector<std::string>& taskNames();

private:
    int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(m_rng); }
    std::string bracketExpression(int depth);

    CorpusMix m_mix;
    std::vector<std::string> m_prose;
    std::mt19937_64 m_rng;
    std::vector<std::string> m_tasks;
    std::discrete_distribution<size_t> m_pick;
};

// Reads prose lines from a text file (blank lines dropped, "Ge1:1 "-style verse references
// stripped); splits off the last `heldOutFraction` for evaluation.
struct ProseSplit {
    std::vector<std::string> train, heldOut;
};
[[nodiscard]] ProseSplit readProse(const std::string& path, double heldOutFraction = 0.05);

}  // namespace spyglass::core
