#include "analysis/vocabulary_readout.h"

#include "spyglass/error.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace spyglass::core {

namespace {

constexpr int64_t kRowBlock = 512;     // rows per block: the logits of a block are V × 512 floats
constexpr int64_t kVocabSlice = 4096;  // vocabulary entries per matmul

// The running top-k of every row: values descending, ids alongside; ties keep the lower id.
class TopK {
public:
    TopK(int64_t rows, int k) : m_k(k), m_values(static_cast<size_t>(rows * k)), m_ids(m_values.size()) {}

    // Starts every row with the entries of logits rows 0 … k−1 (z: [V, R]), sorted.
    void start(const float* z, int64_t rows)
    {
        for (int64_t r = 0; r < rows; ++r) {
            float* values = &m_values[static_cast<size_t>(r * m_k)];
            int* ids = &m_ids[static_cast<size_t>(r * m_k)];
            for (int v = 0; v < m_k; ++v) insertSorted(values, ids, v, z[v * rows + r], v);
        }
    }
    [[nodiscard]] float threshold(int64_t r) const { return m_values[static_cast<size_t>(r * m_k + m_k - 1)]; }
    void insert(int64_t r, float value, int id)
    {
        insertSorted(&m_values[static_cast<size_t>(r * m_k)], &m_ids[static_cast<size_t>(r * m_k)], m_k - 1, value, id);
    }
    [[nodiscard]] float value(int64_t r, int i) const { return m_values[static_cast<size_t>(r * m_k + i)]; }
    [[nodiscard]] int id(int64_t r, int i) const { return m_ids[static_cast<size_t>(r * m_k + i)]; }

private:
    // Places (value, id) among the first `filled` sorted entries, dropping the last one.
    static void insertSorted(float* values, int* ids, int filled, float value, int id)
    {
        int at = filled;
        while (at > 0 && !(values[at - 1] >= value)) {
            values[at] = values[at - 1];
            ids[at] = ids[at - 1];
            --at;
        }
        values[at] = value;
        ids[at] = id;
    }

    int m_k;
    std::vector<float> m_values;
    std::vector<int> m_ids;
};

// The logits of `rows` [R, D] as [V, R] float32 on the CPU, slice by slice.
torch::Tensor transposedLogits(const CausalLm& model, const torch::Tensor& rows)
{
    const int64_t vocab = model.info().vocabSize;
    torch::Tensor z = torch::empty({vocab, rows.size(0)}, torch::TensorOptions().dtype(torch::kFloat32));
    torch::Tensor onDevice;  // a slice's logits where the model is not on the CPU
    for (int64_t begin = 0; begin < vocab; begin += kVocabSlice) {
        torch::Tensor slice = z.narrow(0, begin, std::min(kVocabSlice, vocab - begin));
        if (rows.device().is_cpu()) {
            model.unembedTransposed(rows, begin, slice);
        } else {
            onDevice = torch::empty(slice.sizes(), rows.options());
            model.unembedTransposed(rows, begin, onDevice);
            slice.copy_(onDevice);
        }
    }
    return z;
}

// One block of rows: top-k always; with `cells`, also the rank of next and the sums.
void readBlock(const CausalLm& model, const torch::Tensor& rows, const int* nextIds, int topK, LensCell* cells,
               std::vector<int>* topIds)
{
    const int64_t count = rows.size(0);
    const int64_t vocab = model.info().vocabSize;
    torch::Tensor z = transposedLogits(model, rows);
    float* zd = z.data_ptr<float>();
    TopK top(count, topK);
    top.start(zd, count);
    std::vector<float> threshold(static_cast<size_t>(count));
    for (int64_t r = 0; r < count; ++r) threshold[static_cast<size_t>(r)] = top.threshold(r);
    const bool stats = cells != nullptr;
    std::vector<float> nextLogit(static_cast<size_t>(count), std::numeric_limits<float>::infinity());
    std::vector<int32_t> greater(static_cast<size_t>(count), 0);
    if (stats)
        for (int64_t r = 0; r < count; ++r)
            if (nextIds[r] >= 0) nextLogit[static_cast<size_t>(r)] = zd[nextIds[r] * count + r];
    for (int64_t v = 0; v < vocab; ++v) {
        const float* row = zd + v * count;
        if (stats) {
            const float* n = nextLogit.data();
            int32_t* g = greater.data();
            for (int64_t r = 0; r < count; ++r) g[r] += row[r] > n[r] ? 1 : 0;  // vectorised
        }
        if (v < topK) continue;
        for (int64_t r = 0; r < count; ++r)
            if (row[r] > threshold[static_cast<size_t>(r)]) {
                top.insert(r, row[r], static_cast<int>(v));
                threshold[static_cast<size_t>(r)] = top.threshold(r);
            }
    }
    if (!stats) {
        for (int64_t r = 0; r < count; ++r) {
            std::vector<int>& ids = topIds[r];
            for (int i = 0; i < topK; ++i) ids.push_back(top.id(r, i));
        }
        return;
    }
    // Σ exp(z − max) and Σ exp(z − max)·(z − max) per row: entropy = log S − B / S. Partial sums
    // of 256 vocabulary entries in float (vectorised), added up in double; exp a partial block at
    // a time into one small buffer (a whole [V, R] temporary cost more in page faults than exp).
    std::vector<float> maximum(static_cast<size_t>(count));  // each row's top-1
    for (int64_t r = 0; r < count; ++r) maximum[static_cast<size_t>(r)] = top.value(r, 0);
    z.sub_(torch::from_blob(maximum.data(), {1, count}, torch::kFloat32));
    constexpr int64_t kPartial = 256;
    torch::Tensor e = torch::empty({std::min(kPartial, vocab), count}, torch::kFloat32);
    const float* ed = e.data_ptr<float>();
    std::vector<double> sums(static_cast<size_t>(count)), weighted(static_cast<size_t>(count));
    std::vector<float> partialSum(static_cast<size_t>(count)), partialWeighted(static_cast<size_t>(count));
    for (int64_t begin = 0; begin < vocab; begin += kPartial) {
        std::fill(partialSum.begin(), partialSum.end(), 0.0F);
        std::fill(partialWeighted.begin(), partialWeighted.end(), 0.0F);
        float* ps = partialSum.data();
        float* pw = partialWeighted.data();
        const int64_t end = std::min(vocab, begin + kPartial);
        torch::Tensor block = e.narrow(0, 0, end - begin);
        torch::exp_out(block, z.narrow(0, begin, end - begin));
        for (int64_t v = begin; v < end; ++v) {
            const float* ev = ed + (v - begin) * count;
            const float* zv = zd + v * count;
            for (int64_t r = 0; r < count; ++r) {  // vectorised
                ps[r] += ev[r];
                pw[r] += ev[r] * zv[r];
            }
        }
        for (int64_t r = 0; r < count; ++r) {
            sums[static_cast<size_t>(r)] += ps[r];
            weighted[static_cast<size_t>(r)] += pw[r];
        }
    }
    const double* s = sums.data();
    const double* b = weighted.data();
    for (int64_t r = 0; r < count; ++r) {
        const double logSum = std::log(s[r]);
        const double offset = static_cast<double>(maximum[static_cast<size_t>(r)]) + logSum;  // log Σ exp z
        LensCell& cell = cells[r];
        for (int i = 0; i < topK; ++i) {
            cell.topIds.push_back(top.id(r, i));
            cell.topProbs.push_back(static_cast<float>(std::exp(static_cast<double>(top.value(r, i)) - offset)));
        }
        cell.entropy = static_cast<float>(logSum - b[r] / s[r]);
        if (nextIds[r] >= 0) {
            cell.nextRank = greater[static_cast<size_t>(r)] + 1;
            cell.nextProb =
                static_cast<float>(std::exp(static_cast<double>(nextLogit[static_cast<size_t>(r)]) - offset));
        }
    }
}

void checkRows(const CausalLm& model, const torch::Tensor& rows, int topK)
{
    if (rows.dim() != 2 || rows.size(1) != model.info().modelWidth)
        throw Error("vocabulary read-out needs rows of the model width");
    if (topK < 1 || topK > model.info().vocabSize) throw Error("top-k must be between 1 and the vocabulary size");
}

}  // namespace

std::vector<LensCell> readVocabulary(const CausalLm& model, const torch::Tensor& rows, const std::vector<int>& nextIds,
                                     int topK)
{
    checkRows(model, rows, topK);
    if (static_cast<int64_t>(nextIds.size()) != rows.size(0)) throw Error("one next token per row is needed");
    c10::InferenceMode guard;
    const torch::Tensor cpu = rows.to(torch::kFloat32);
    std::vector<LensCell> cells(static_cast<size_t>(rows.size(0)));
    for (int64_t begin = 0; begin < rows.size(0); begin += kRowBlock) {
        const int64_t count = std::min(kRowBlock, rows.size(0) - begin);
        readBlock(model, cpu.narrow(0, begin, count), nextIds.data() + begin, topK, cells.data() + begin, nullptr);
    }
    return cells;
}

std::vector<std::vector<int>> topTokens(const CausalLm& model, const torch::Tensor& rows, int topK)
{
    checkRows(model, rows, topK);
    c10::InferenceMode guard;
    const torch::Tensor cpu = rows.to(torch::kFloat32);
    std::vector<std::vector<int>> ids(static_cast<size_t>(rows.size(0)));
    for (int64_t begin = 0; begin < rows.size(0); begin += kRowBlock) {
        const int64_t count = std::min(kRowBlock, rows.size(0) - begin);
        readBlock(model, cpu.narrow(0, begin, count), nullptr, topK, nullptr, ids.data() + begin);
    }
    return ids;
}

}  // namespace spyglass::core
