// Engine speed on a GPT-2-small-shaped model (12 layers, 768 wide, 12 heads, vocab 50257, random
// weights written by this benchmark and loaded through the normal loader):
//   - the machine's sgemm rate (1024³ and the MLP shape 128×768×3072), measured in the same run;
//   - a forward pass over 128 tokens (all logits), with its ratio to the FLOP-bound time at the
//     measured 1024³ rate, for 1 and 2 threads;
//   - greedy generation of 32 tokens after a 16-token prompt, with and without the KV cache.
#include "bench_model.h"
#include "models/causal_lm.h"
#include "models/language_model_impl.h"

#include "spyglass/language_model.h"
#include "spyglass/runtime.h"
#include "spyglass/safetensors.h"

#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <random>

using namespace spyglass::core;

namespace {

constexpr int64_t kTokens = 128;
double g_sgemmGflops = 0;  // from BM_Sgemm/1024, used as the FLOP bound

LanguageModel& model()
{
    static auto m = LanguageModel::load(makeBenchModel());
    return *m;
}

double forwardFlops(int64_t t)
{
    const double d = kWidth;
    const double perLayer = 2.0 * t * 12 * d * d + 2.0 * 2.0 * t * t * d;  // projections + QKᵀ and PV
    return kLayers * perLayer + 2.0 * t * d * kVocab;                      // + unembedding
}

void BM_Sgemm(benchmark::State& state)
{
    setThreadCount(1);
    const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
    const torch::Tensor a = torch::randn({m, k}), b = torch::randn({k, n});
    for (auto _ : state) benchmark::DoNotOptimize(torch::mm(a, b));
    const double gflops = 2.0 * m * k * n * state.iterations() / 1e9;
    state.counters["GFLOP/s"] = benchmark::Counter(gflops, benchmark::Counter::kIsRate);
    if (m == 1024 && k == 1024) {
        // Recompute the rate from the timing Google Benchmark reports after the loop.
        state.counters["GFLOP/s_1t"] = benchmark::Counter(gflops, benchmark::Counter::kIsRate);
    }
}
BENCHMARK(BM_Sgemm)->Args({1024, 1024, 1024})->Args({128, 768, 3072})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Forward128(benchmark::State& state)
{
    setThreadCount(static_cast<int>(state.range(0)));
    c10::InferenceMode guard;
    const CausalLm& lm = *model().impl().model;
    const torch::Tensor ids = torch::randint(0, kVocab, {1, kTokens}, torch::kInt64);
    for (auto _ : state) benchmark::DoNotOptimize(lm.forward(ids, {}));
    state.counters["tokens/s"] =
        benchmark::Counter(static_cast<double>(kTokens) * state.iterations(), benchmark::Counter::kIsRate);
    state.counters["GFLOP/s"] =
        benchmark::Counter(forwardFlops(kTokens) * state.iterations() / 1e9, benchmark::Counter::kIsRate);
    state.counters["GFLOP"] = forwardFlops(kTokens) / 1e9;
    setThreadCount(1);
}
BENCHMARK(BM_Forward128)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

void BM_Generate32(benchmark::State& state)
{
    setThreadCount(1);
    std::vector<int> prompt(16);
    for (int i = 0; i < 16; ++i) prompt[static_cast<size_t>(i)] = 100 + 37 * i;
    SamplingOptions o;
    o.maxNewTokens = 32;
    o.stopAtEos = false;
    o.useKvCache = state.range(0) != 0;
    for (auto _ : state) benchmark::DoNotOptimize(model().generate(prompt, o));
    state.counters["tokens/s"] = benchmark::Counter(32.0 * state.iterations(), benchmark::Counter::kIsRate);
    state.SetLabel(o.useKvCache ? "kv-cache" : "no-cache");
}
BENCHMARK(BM_Generate32)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

// The Attention view's work per selected token: the attention row of the last of N tokens, every
// layer and head ([12, 12, N]), on the GPT-2-small shape.
void BM_AttentionRow(benchmark::State& state)
{
    setThreadCount(1);
    const int n = static_cast<int>(state.range(0));
    std::vector<int> ids(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = (100 + 37 * i) % static_cast<int>(kVocab);
    for (auto _ : state) benchmark::DoNotOptimize(model().attentionRow(ids, n - 1));
}
BENCHMARK(BM_AttentionRow)->Arg(128)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// Prints the ratio of the measured forward time to the FLOP-bound time at the measured sgemm rate.
class RatioReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override
    {
        ConsoleReporter::ReportRuns(runs);
        for (const auto& run : runs) {
            const std::string name = run.benchmark_name();
            const double seconds = run.GetAdjustedRealTime() / 1e3;  // reported in ms
            if (name.rfind("BM_Sgemm/1024/1024/1024", 0) == 0) g_sgemmGflops = 2.0 * 1024 * 1024 * 1024 / seconds / 1e9;
            if (name.rfind("BM_Forward128", 0) == 0 && g_sgemmGflops > 0) {
                const double bound = forwardFlops(kTokens) / (g_sgemmGflops * 1e9);
                GetOutputStream() << "  → " << name << ": " << seconds * 1e3 << " ms, FLOP-bound at " << g_sgemmGflops
                                  << " GFLOP/s (1 thread, 1024³) is " << bound * 1e3 << " ms: ratio " << seconds / bound
                                  << "x\n";
            }
        }
    }
};

}  // namespace

int main(int argc, char** argv)
{
    reexecWithTunedBlas(argc, argv);
    benchmark::Initialize(&argc, argv);
    std::cerr << "runtime: " << runtimeDescription() << "\n";
    (void)model();  // write and load the model before timing
    RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return 0;
}
