// Analysis speed on the GPT-2-small-shaped random model (bench_model.h), CPU:
//   - full analysis: 8 greedy tokens after a 32-token prompt, grad×input for every generated
//     token, normed lens top-10, NMF k=10 over all layers (+2 stability seeds), PCA — total, per
//     stage, and the ratio to the FLOP-bound minimum at the sgemm rate measured in the same run;
//   - saliency targets one by one (a forward and backward per token), batched into one
//     forward/backward over copies of the sequence, and the analysis' way: one forward and one
//     backward with the targets' cotangents batched (vmap);
//   - NMF alone on 40 positions × 12·3072 neurons, and with its 2 stability seeds side by side.
// Plain timing (best of 2 runs), printed as a table; not a test (`--smoke`: one analysis only,
// as CI runs it). `--threads N` (default 1) sets
// libtorch's and OpenBLAS' threads; `--profile FILE` instead writes one analysis' operators as a
// Chrome trace (libtorch's profiler).
#include "analysis/nmf.h"
#include "analysis/saliency.h"
#include "bench_model.h"
#include "models/causal_lm.h"
#include "models/language_model_impl.h"

#include "spyglass/analysis.h"
#include "spyglass/runtime.h"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <map>

using namespace spyglass::core;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point a, Clock::time_point b)
{
    return std::chrono::duration<double>(b - a).count();
}

template <typename F>
double bestOf(int runs, F&& f)
{
    double best = 1e300;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = Clock::now();
        f();
        best = std::min(best, seconds(t0, Clock::now()));
    }
    return best;
}

// Forward FLOPs over t tokens; `logitPositions` positions go through the unembedding.
double forwardFlops(double t, double logitPositions)
{
    const double d = kWidth;
    return kLayers * (2.0 * t * 12 * d * d + 4.0 * t * t * d) + 2.0 * logitPositions * d * kVocab;
}

}  // namespace

int main(int argc, char** argv)
{
    reexecWithTunedBlas(argc, argv);
    int threads = 1;
    std::string profile;
    bool smoke = false;  // one analysis, no comparisons: that the bench still runs (CI)
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--smoke") == 0) smoke = true;
        if (i + 1 < argc && std::strcmp(argv[i], "--threads") == 0) threads = std::max(1, std::atoi(argv[i + 1]));
        if (i + 1 < argc && std::strcmp(argv[i], "--profile") == 0) profile = argv[i + 1];
    }
    setThreadCount(threads);
    const auto dir = makeBenchModel();
    for (const char* f : {"vocab.json", "merges.txt"})
        if (!std::filesystem::exists(dir / f))
            std::filesystem::copy_file(std::filesystem::path(SPYGLASS_FIXTURES_DIR) / "gpt2-tiny-random" / f, dir / f);
    auto model = LanguageModel::load(dir);
    std::cout << "runtime: " << runtimeDescription() << "\n";

    const torch::Tensor a = torch::randn({1024, 1024}), b = torch::randn({1024, 1024});
    const double gemm = bestOf(5, [&] { (void)torch::mm(a, b); });
    const double rate = 2.0 * 1024 * 1024 * 1024 / gemm;
    std::cout << "sgemm 1024³: " << rate / 1e9 << " GFLOP/s\n";

    const std::string prompt =
        "The quick brown fox jumps over the lazy dog while the five boxing wizards jump quickly and the farmer counts "
        "one, two, three, four, five sheep in the field";
    const int promptTokens = static_cast<int>(model->encode(prompt).size());
    AnalysisOptions o;
    o.maxNewTokens = 8;
    if (!profile.empty()) {
        // One analysis under libtorch's profiler: a Chrome trace of every operator, then exit.
        (void)analyze(*model, prompt, o);
        torch::autograd::profiler::RecordProfile record(profile);
        (void)analyze(*model, prompt, o);
        return 0;
    }
    std::map<std::string, double> stageTime;
    std::string stage;
    Clock::time_point stageStart;
    Report report;
    const double total = bestOf(smoke ? 1 : 2, [&] {
        stageTime.clear();
        stage.clear();
        report = analyze(*model, prompt, o, [&](const Progress& p) {
            if (p.stage != stage) {
                const auto now = Clock::now();
                if (!stage.empty()) stageTime[stage] += seconds(stageStart, now);
                stage = p.stage;
                stageStart = now;
            }
            return true;
        });
    });
    const int positions = static_cast<int>(report.tokens.size());
    // Strictly needed: per generated token one forward over its context (last logits only) and the
    // input-gradient backward (≈ one more forward: weights need no gradients); one forward over all
    // positions; the lens read-out of (L+1) layers × positions through the unembedding.
    double bound = 0;
    for (int t = promptTokens; t < positions; ++t) bound += 2 * forwardFlops(t, 1);
    bound += forwardFlops(positions, positions) + (kLayers + 1) * 2.0 * positions * kWidth * kVocab;
    std::cout << std::fixed << std::setprecision(3) << "\nfull analysis: prompt " << promptTokens
              << " tokens + 8 generated, " << positions << " positions\n  total " << total << " s; FLOP bound "
              << bound / 1e9 << " GFLOP = " << bound / rate << " s at the measured rate; ratio "
              << total / (bound / rate) << "x\n";
    for (const auto& [name, t] : stageTime) std::cout << "  stage " << std::setw(11) << name << ": " << t << " s\n";
    if (smoke) return 0;

    // Saliency targets one by one (as the analysis does, one pass per generated token) vs batched:
    // one forward over G copies of the final sequence and one backward for all G targets.
    const CausalLm& lm = *model->impl().model;
    std::vector<int64_t> ids;
    for (const auto& t : report.tokens) ids.push_back(t.id);
    const int generated = positions - promptTokens;
    const double sequential = bestOf(2, [&] {
        for (int j = 0; j < generated; ++j) {
            const torch::Tensor context =
                torch::tensor(std::vector<int64_t>(ids.begin(), ids.begin() + promptTokens + j)).view({1, -1});
            torch::Tensor e = lm.embedTokens(context).detach().requires_grad_(true);
            ForwardOptions f;
            f.lastLogitsOnly = true;
            torch::softmax(lm.forwardEmbeddings(e, f)[0][0], -1)[ids[static_cast<size_t>(promptTokens + j)]].backward();
        }
    });
    const double batched = bestOf(2, [&] {
        const torch::Tensor all = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end() - 1)).view({1, -1});
        torch::Tensor e = lm.embedTokens(all).detach().expand({generated, -1, -1}).contiguous().requires_grad_(true);
        ActivationCapture capture;
        capture.kinds = kCaptureResidPost;
        ForwardOptions f;
        f.capture = &capture;
        (void)lm.forwardEmbeddings(e, f);
        // Each copy j reads its own position (its target's context ends there).
        const torch::Tensor last = capture.tensors.at("resid_post." + std::to_string(kLayers - 1));
        std::vector<torch::Tensor> targets;
        for (int j = 0; j < generated; ++j) {
            const torch::Tensor z = lm.unembed(lm.finalNorm(last[j][promptTokens + j - 1]));
            targets.push_back(torch::softmax(z, -1)[ids[static_cast<size_t>(promptTokens + j)]]);
        }
        torch::stack(targets).sum().backward();
    });
    // The analysis' way: SaliencyEngine::explain — one forward over the final sequence and one
    // backward with the targets' one-hot cotangents batched (vmap).
    AnalysisOptions gradXInput;
    gradXInput.saliencyMethods = {SaliencyMethod::GradXInput};
    const SaliencyEngine engine(lm, gradXInput, [] {});
    const std::vector<int> sequence(ids.begin(), ids.end());
    const double vmapped =
        bestOf(2, [&] { engine.explain(sequence, promptTokens, [](int, std::vector<SaliencyRow>) {}); });
    std::cout << "\nsaliency for " << generated << " targets: one pass per token " << sequential
              << " s; batched into one pass " << batched << " s (" << sequential / batched
              << "x); one forward + one vmap'd backward " << vmapped << " s (" << sequential / vmapped << "x)\n";

    // NMF alone: 40 positions × 12 layers × 3072 neurons, k = 10.
    std::vector<int> fortyIds;
    for (int i = 0; i < 40; ++i) fortyIds.push_back(static_cast<int>(ids[static_cast<size_t>(i % ids.size())]));
    const auto trace = model->trace(fortyIds, kCaptureMlpAct);
    std::vector<torch::Tensor> blocks;
    for (int l = 0; l < kLayers; ++l) {
        const HostTensor& h = trace.at("mlp_act." + std::to_string(l));
        blocks.push_back(torch::tensor(h.values).view(h.shape).clamp_min(0));
    }
    const torch::Tensor x = torch::cat(blocks, 1);
    NmfResult nmf;
    const double nmfTime = bestOf(2, [&] { nmf = factorise(x, {10, 500, 1e-4, 0}); });
    std::vector<NmfResult> seeds;
    const double seedsTime = bestOf(2, [&] { seeds = factoriseSeeds(x, {10, 500, 1e-4, 0}, {0, 1, 2}); });
    std::cout << "\nNMF 40 × " << x.size(1) << ", k = 10: " << nmfTime << " s, " << nmf.iterations
              << " iterations, error " << nmf.error << " (‖X‖ " << x.norm().item<double>() << ")"
              << "\n  with the 2 stability seeds side by side (the analysis' way): " << seedsTime << " s, "
              << seeds[1].iterations << " and " << seeds[2].iterations << " iterations for those\n";
    return 0;
}
