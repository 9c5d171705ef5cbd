#include "spyglass/evaluation.h"

#include "spyglass/error.h"
#include "train/corpus.h"
#include "train/corpus_data.h"

#include <cmath>
#include <random>

namespace spyglass::core {

namespace {

class Evaluator {
public:
    Evaluator(LanguageModel& model, const ProgressCallback& progress) : m_model(model), m_progress(progress)
    {
        if (!model.tokenizer()) throw Error("eval needs a model with tokenizer files");
    }

    // Greedy continuation of `prompt`, at most `tokens` tokens, stopping at EOS.
    std::string complete(const std::string& prompt, int tokens)
    {
        if (m_progress && !m_progress({"eval", ++m_done, 0})) throw Cancelled();
        SamplingOptions o;
        o.maxNewTokens = tokens;
        const auto ids = m_model.encode(prompt);
        if (static_cast<int>(ids.size()) >= m_model.info().contextLength) return {};  // cannot answer: counts as wrong
        return m_model.tokenizer()->decodeAfter(ids.back(), m_model.generate(ids, o).generatedIds);
    }

    double logProbSum(const std::vector<int>& ids, int& predicted)
    {
        const HostTensor logits = m_model.trace(ids, kCaptureLogits).at("logits");
        const int64_t vocab = logits.shape[1];
        double total = 0;
        for (size_t p = 0; p + 1 < ids.size(); ++p) {
            const float* row = logits.values.data() + p * static_cast<size_t>(vocab);
            double maxLogit = row[0];
            for (int64_t v = 1; v < vocab; ++v) maxLogit = std::max<double>(maxLogit, row[v]);
            double sum = 0;
            for (int64_t v = 0; v < vocab; ++v) sum += std::exp(row[v] - maxLogit);
            total += row[ids[p + 1]] - maxLogit - std::log(sum);
            ++predicted;
        }
        return total;
    }

private:
    LanguageModel& m_model;
    const ProgressCallback& m_progress;
    int m_done = 0;
};

std::string firstLine(const std::string& s)
{
    const size_t end = s.find_first_of("\n");
    return end == std::string::npos ? s : s.substr(0, end);
}

}  // namespace

std::vector<EvalMetric> evaluate(LanguageModel& model, const EvalOptions& options, const ProgressCallback& progress)
{
    Evaluator eval(model, progress);
    std::mt19937_64 rng(options.seed);
    auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    std::vector<EvalMetric> out;

    // Counting: three numbers given, the next five must follow.
    auto counting = [&](const std::string& name, int lo, int hi) {
        EvalMetric m{name, 0, options.trials, ""};
        int correct = 0;
        for (int t = 0; t < options.trials; ++t) {
            const int start = uniform(lo, hi);
            const std::string prompt =
                std::to_string(start) + ", " + std::to_string(start + 1) + ", " + std::to_string(start + 2) + ",";
            std::string expected;
            for (int i = 3; i < 8; ++i) expected += " " + std::to_string(start + i) + ",";
            const std::string got = eval.complete(prompt, 30);
            if (got.compare(0, expected.size() - 1, expected, 0, expected.size() - 1) == 0) ++correct;
            if (t == 0) m.example = prompt + " →" + got.substr(0, expected.size());
        }
        m.value = static_cast<double>(correct) / options.trials;
        out.push_back(m);
    };
    counting("counting_from_1_to_150", 1, 150);
    counting("counting_across_100", 93, 99);
    counting("counting_beyond_150", 151, 400);

    // Addition by operand length (training used 1 … 3 digits).
    for (int digits = 1; digits <= options.maxDigits; ++digits) {
        EvalMetric m{"addition_" + std::to_string(digits) + "_digits", 0, options.trials, ""};
        int lo = 1;
        for (int i = 1; i < digits; ++i) lo *= 10;
        int correct = 0;
        for (int t = 0; t < options.trials; ++t) {
            const long long a = uniform(digits == 1 ? 0 : lo, lo * 10 - 1),
                            b = uniform(digits == 1 ? 0 : lo, lo * 10 - 1);
            const std::string prompt = std::to_string(a) + " + " + std::to_string(b) + " =";
            const std::string got = firstLine(eval.complete(prompt, digits + 4));
            if (got == " " + std::to_string(a + b)) ++correct;
            if (t == 0) m.example = prompt + got;
        }
        m.value = static_cast<double>(correct) / options.trials;
        out.push_back(m);
    }

    // List recall: the first k items given, the next one must follow.
    {
        EvalMetric m{"list_recall", 0, 0, ""};
        int correct = 0;
        for (const auto& list : namedLists()) {
            for (size_t k = 2; k < list.items.size(); ++k) {
                std::string prompt = list.title + ":";
                for (size_t i = 0; i < k; ++i) prompt += " " + list.items[i] + ",";
                const std::string got = eval.complete(prompt, 6);
                if (got.rfind(" " + list.items[k], 0) == 0) ++correct;
                if (m.trials == 0) m.example = prompt + " →" + firstLine(got);
                ++m.trials;
            }
        }
        m.value = static_cast<double>(correct) / m.trials;
        out.push_back(m);
    }

    // Fact recall: "<name> was born in" → the year.
    {
        EvalMetric m{"birth_year_recall", 0, 0, ""};
        int correct = 0;
        for (const auto& [name, year] : birthYears()) {
            const std::string prompt = name + " was born in";
            const std::string got = eval.complete(prompt, 6);
            if (got.rfind(" " + std::to_string(year), 0) == 0) ++correct;
            if (m.trials == 0) m.example = prompt + " →" + firstLine(got);
            ++m.trials;
        }
        m.value = static_cast<double>(correct) / m.trials;
        out.push_back(m);
    }

    // Perplexity on held-out prose (never seen in training).
    if (!options.proseFile.empty()) {
        const ProseSplit prose = readProse(options.proseFile);
        double total = 0;
        int predicted = 0, lines = 0;
        for (const auto& line : prose.heldOut) {
            std::vector<int> ids = model.encode(line);
            if (ids.size() < 2) continue;
            if (static_cast<int>(ids.size()) > model.info().contextLength)
                ids.resize(static_cast<size_t>(model.info().contextLength));
            total += eval.logProbSum(ids, predicted);
            if (++lines == 300) break;
        }
        out.push_back({"heldout_prose_perplexity", std::exp(-total / std::max(predicted, 1)), lines,
                       std::to_string(predicted) + " predicted tokens"});
    }
    return out;
}

}  // namespace spyglass::core
