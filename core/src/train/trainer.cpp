#include "spyglass/trainer.h"

#include "io/atomic_file.h"
#include "io/json_file.h"
#include "models/gpt2_config.h"
#include "models/gpt2_model.h"
#include "models/torch_weights.h"
#include "spyglass/error.h"
#include "spyglass/safetensors.h"
#include "spyglass/tokenizer.h"
#include "train/bpe_trainer.h"
#include "train/corpus.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <set>

namespace spyglass::core {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// One field a line: clang-format folds X-macro lists differently on every run.
// clang-format off
#define SPYGLASS_RECIPE_FIELDS(X) \
    X(proseFile, "prose_file") \
    X(vocabSize, "vocab_size") \
    X(tokenizerDocuments, "tokenizer_documents") \
    X(layers, "layers") \
    X(heads, "heads") \
    X(width, "width") \
    X(contextLength, "context_length") \
    X(corpusTokens, "corpus_tokens") \
    X(taskWeights, "task_weights") \
    X(additionMaxDigits, "addition_max_digits") \
    X(countingMaxStart, "counting_max_start") \
    X(batchSize, "batch_size") \
    X(steps, "steps") \
    X(learningRate, "learning_rate") \
    X(minLearningRateRatio, "min_learning_rate_ratio") \
    X(warmupSteps, "warmup_steps") \
    X(weightDecay, "weight_decay") \
    X(gradientClip, "gradient_clip") \
    X(seed, "seed") \
    X(checkpointEvery, "checkpoint_every") \
    X(validationEvery, "validation_every") \
    X(saveHalf, "save_half")
// clang-format on

Gpt2Config modelConfig(const TrainConfig& c, int vocab)
{
    Gpt2Config g;
    g.layerCount = c.layers;
    g.headCount = c.heads;
    g.width = c.width;
    g.innerWidth = 4 * c.width;
    g.vocabSize = vocab;
    g.contextLength = c.contextLength;
    g.eosId = g.bosId = vocab - 1;
    return g;
}

json hfConfig(const Gpt2Config& g)
{
    return {{"architectures", {"GPT2LMHeadModel"}},
            {"model_type", "gpt2"},
            {"activation_function", "gelu_new"},
            {"n_layer", g.layerCount},
            {"n_head", g.headCount},
            {"n_embd", g.width},
            {"n_inner", nullptr},
            {"vocab_size", g.vocabSize},
            {"n_positions", g.contextLength},
            {"n_ctx", g.contextLength},
            {"layer_norm_epsilon", 1e-5},
            {"tie_word_embeddings", true},
            {"bos_token_id", *g.bosId},
            {"eos_token_id", *g.eosId},
            {"torch_dtype", "float32"}};
}

void writeText(const fs::path& path, const std::string& text)
{
    writeFileAtomically(path, text);
}

void saveWeights(const Gpt2Model& model, const fs::path& path, DType dtype)
{
    SafetensorsWriter w;
    for (const auto& [name, tensor] : model.namedParameters()) w.addFloat(name, toHost(tensor), dtype);
    w.setMetadata("format", "pt");
    w.setMetadata("producer", "spyglass-cli train");
    w.write(path);
}

double learningRateAt(const TrainConfig& c, int step)
{
    if (step < c.warmupSteps) return c.learningRate * (step + 1) / c.warmupSteps;
    const double progress = static_cast<double>(step - c.warmupSteps) / std::max(1, c.steps - c.warmupSteps);
    const double minimum = c.learningRate * c.minLearningRateRatio;
    return minimum + 0.5 * (c.learningRate - minimum) * (1 + std::cos(M_PI * std::min(1.0, progress)));
}

std::vector<int32_t> buildTokenStream(CorpusGenerator& generator, const Tokenizer& tokenizer, int64_t tokens, int eot)
{
    std::vector<int32_t> stream;
    stream.reserve(static_cast<size_t>(tokens) + 1024);
    while (static_cast<int64_t>(stream.size()) < tokens) {
        for (int id : tokenizer.encode(generator.next()).ids) stream.push_back(id);
        stream.push_back(eot);
    }
    return stream;
}

}  // namespace

TrainConfig TrainConfig::fromFile(const fs::path& file)
{
    const json j = readJsonFile(file);
    if (!j.is_object()) throw Error(file.string() + ": not a JSON object");
    TrainConfig c;
    std::set<std::string> known{"out_dir"};
#define X(member, key)                                                       \
    known.insert(key);                                                       \
    if (j.contains(key)) {                                                   \
        try {                                                                \
            j.at(key).get_to(c.member);                                      \
        } catch (const json::exception&) {                                   \
            throw Error(file.string() + ": \"" key "\" has the wrong type"); \
        }                                                                    \
    }
    SPYGLASS_RECIPE_FIELDS(X)
#undef X
    for (auto it = j.begin(); it != j.end(); ++it)
        if (!known.count(it.key())) throw Error(file.string() + ": unknown key \"" + it.key() + "\"");
    if (j.contains("out_dir")) c.outDir = j["out_dir"].get<std::string>();
    if (!c.proseFile.empty() && fs::path(c.proseFile).is_relative())
        c.proseFile = (file.parent_path() / c.proseFile).string();
    return c;
}

std::string TrainConfig::toJson() const
{
    json j;
#define X(member, key) j[key] = member;
    SPYGLASS_RECIPE_FIELDS(X)
#undef X
    return j.dump(2);
}

fs::path train(const TrainConfig& c, const std::function<bool(const TrainProgress&)>& progress, bool resume)
{
    if (c.outDir.empty()) throw OptionError("outDir", "no output folder");
    if (c.width % c.heads != 0)
        throw Error("train: width " + std::to_string(c.width) + " is not divisible by heads " +
                    std::to_string(c.heads));
    if (c.steps < 1 || c.batchSize < 1 || c.contextLength < 8 || c.layers < 1)
        throw Error("train: steps, batch size, layers and context must be positive");
    fs::create_directories(c.outDir / "checkpoint");
    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    TrainProgress p;
    auto report = [&] {
        p.elapsedSeconds = elapsed();
        if (progress && !progress(p)) throw Cancelled();
    };
    writeText(c.outDir / "recipe.json", c.toJson());

    ProseSplit prose;
    if (!c.proseFile.empty()) prose = readProse(c.proseFile);
    CorpusMix mix;
    mix.weights = c.taskWeights;
    mix.additionMaxDigits = c.additionMaxDigits;
    mix.countingMaxStart = c.countingMaxStart;

    // 1. Tokenizer (kept when resuming).
    p.stage = "tokenizer";
    report();
    if (!(resume && fs::exists(c.outDir / "tokenizer.json"))) {
        CorpusGenerator sample(mix, prose.train, c.seed ^ 0x7f4a7c15ULL);
        std::vector<std::string> texts;
        for (int i = 0; i < c.tokenizerDocuments; ++i) texts.push_back(sample.next());
        writeTokenizerFiles(trainBpe(texts, c.vocabSize), c.outDir, c.contextLength);
    }
    const auto tokenizer = Tokenizer::fromTokenizerJson(c.outDir / "tokenizer.json");
    const int vocab = tokenizer->vocabSize();
    const int eot = vocab - 1;

    // 2. Corpus: one token stream; validation from a differently seeded generator.
    p.stage = "corpus";
    report();
    CorpusGenerator generator(mix, prose.train, c.seed);
    const std::vector<int32_t> stream = buildTokenStream(generator, *tokenizer, c.corpusTokens, eot);
    CorpusGenerator validationGenerator(mix, prose.train, c.seed + 1);
    const std::vector<int32_t> validationStream =
        buildTokenStream(validationGenerator, *tokenizer, 64 * (c.contextLength + 1), eot);

    // 3. Model: GPT-2 init (N(0, 0.02), residual projections scaled by 1/sqrt(2·layers)).
    const Gpt2Config config = modelConfig(c, vocab);
    torch::manual_seed(c.seed);
    std::map<std::string, torch::Tensor> parameters;
    const fs::path checkpoint = c.outDir / "checkpoint";
    std::shared_ptr<const SafetensorsFile> saved;
    int firstStep = 0;
    if (resume && fs::exists(checkpoint / "state.json")) {
        saved = SafetensorsFile::open(checkpoint / "model.safetensors");
        firstStep = readJsonFile(checkpoint / "state.json").at("step").get<int>();
    }
    for (const auto& [name, shape] : Gpt2Model::parameterShapes(config)) {
        torch::Tensor t;
        if (saved) {
            const HostTensor h = saved->readFloat(name);
            t = torch::tensor(h.values).view(h.shape);
        } else if (shape.size() == 1) {
            t = name.find(".weight") != std::string::npos ? torch::ones(shape) : torch::zeros(shape);
        } else {
            const bool residual = name.find("c_proj.weight") != std::string::npos;
            t = torch::randn(shape) * (residual ? 0.02 / std::sqrt(2.0 * c.layers) : 0.02);
        }
        parameters[name] = t.requires_grad_(true);
    }
    ModelInfo info;
    info.architecture = "gpt2";
    info.layerCount = c.layers;
    info.vocabSize = vocab;
    info.contextLength = c.contextLength;
    Gpt2Model model(
        config, [&](const std::string& name, const std::vector<int64_t>&) { return parameters.at(name); }, torch::kCPU,
        info);

    std::vector<torch::Tensor> decay, noDecay, allParameters;
    for (const auto& [name, t] : model.namedParameters()) {
        (t.dim() >= 2 ? decay : noDecay).push_back(t);
        allParameters.push_back(t);
    }
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay,
                        std::make_unique<torch::optim::AdamWOptions>(
                            torch::optim::AdamWOptions(c.learningRate).betas({0.9, 0.95}).weight_decay(c.weightDecay)));
    groups.emplace_back(noDecay, std::make_unique<torch::optim::AdamWOptions>(
                                     torch::optim::AdamWOptions(c.learningRate).betas({0.9, 0.95}).weight_decay(0.0)));
    torch::optim::AdamW optimizer(groups);
    if (saved) torch::load(optimizer, (checkpoint / "optimizer.pt").string());

    auto batchFrom = [&](const std::vector<int32_t>& source, std::mt19937_64& rng, int batch) {
        std::uniform_int_distribution<size_t> offset(0, source.size() - static_cast<size_t>(c.contextLength) - 2);
        torch::Tensor data = torch::empty({batch, c.contextLength + 1}, torch::kInt64);
        auto acc = data.accessor<int64_t, 2>();
        for (int b = 0; b < batch; ++b) {
            const size_t o = offset(rng);
            for (int t = 0; t <= c.contextLength; ++t) acc[b][t] = source[o + static_cast<size_t>(t)];
        }
        return data;
    };
    auto lossOf = [&](const torch::Tensor& data) {
        const torch::Tensor logits = model.forward(data.narrow(1, 0, c.contextLength), {});
        return torch::cross_entropy_loss(logits.reshape({-1, vocab}), data.narrow(1, 1, c.contextLength).reshape({-1}));
    };
    auto validate = [&] {
        torch::NoGradGuard noGrad;
        std::mt19937_64 rng(c.seed + 99);
        double total = 0;
        for (int i = 0; i < 4; ++i) total += lossOf(batchFrom(validationStream, rng, c.batchSize)).item<double>();
        return total / 4;
    };
    auto saveCheckpoint = [&](int step) {
        saveWeights(model, checkpoint / "model.safetensors", DType::F32);
        torch::save(optimizer, (checkpoint / "optimizer.pt").string());
        writeText(checkpoint / "state.json", json({{"step", step}}).dump());
        saveWeights(model, c.outDir / "model.safetensors", c.saveHalf ? DType::F16 : DType::F32);
        writeText(c.outDir / "config.json", hfConfig(config).dump(2));
    };

    // 4. Training.
    p.stage = "training";
    p.steps = c.steps;
    std::ofstream log(c.outDir / "training_log.tsv", firstStep > 0 ? std::ios::app : std::ios::trunc);
    if (firstStep == 0) log << "step\tloss\tvalidation_loss\tlearning_rate\ttokens_per_second\telapsed_seconds\n";
    auto windowStart = std::chrono::steady_clock::now();
    int windowSteps = 0;
    for (int step = firstStep; step < c.steps; ++step) {
        std::mt19937_64 rng(c.seed * 1000003ULL + static_cast<uint64_t>(step));  // resume gives the same batches
        const double lr = learningRateAt(c, step);
        for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
        optimizer.zero_grad();
        const torch::Tensor loss = lossOf(batchFrom(stream, rng, c.batchSize));
        loss.backward();
        torch::nn::utils::clip_grad_norm_(allParameters, c.gradientClip);
        optimizer.step();
        ++windowSteps;
        p.step = step + 1;
        p.loss = loss.item<double>();
        p.learningRate = lr;
        const double window = std::chrono::duration<double>(std::chrono::steady_clock::now() - windowStart).count();
        p.tokensPerSecond = windowSteps * static_cast<double>(c.batchSize) * c.contextLength / std::max(window, 1e-9);
        const bool last = step + 1 == c.steps;
        if ((step + 1) % c.validationEvery == 0 || last) p.validationLoss = validate();
        if ((step + 1) % c.checkpointEvery == 0 || last) {
            saveCheckpoint(step + 1);
            log << step + 1 << '\t' << p.loss << '\t' << p.validationLoss << '\t' << lr << '\t' << p.tokensPerSecond
                << '\t' << elapsed() << '\n';
            log.flush();
            windowStart = std::chrono::steady_clock::now();
            windowSteps = 0;
        }
        try {
            report();
        } catch (const Cancelled&) {
            saveCheckpoint(step + 1);
            throw;
        }
    }
    return c.outDir;
}

}  // namespace spyglass::core
