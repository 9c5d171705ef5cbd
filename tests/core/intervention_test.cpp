// Interventions, activation patching and contrastive / forced saliency against an independent
// float64 GPT-2 with explicit hooks (tests/fixtures/interventions/make_reference.py, on the
// gpt2-tiny-random weights): logits atol 1e-4 + rtol 1e-4, greedy ids exact, patching effects
// within 1e-3 (ratios of logit differences of ~0.18), saliency shares within 1e-4. Plus what
// must hold by construction (patching a whole resid_pre layer restores the clean run; a no-op
// intervention changes nothing) and the errors (one clear message each).
#include "cli_support.h"
#include "model_fixture.h"
#include "test_support.h"

#include "spyglass/analysis.h"
#include "spyglass/error.h"
#include "spyglass/intervention.h"
#include "spyglass/patching.h"
#include "spyglass/report_json.h"
#include "spyglass/steering.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using namespace spyglass::core;
using nlohmann::json;
using spyglass::test::allClose;
using spyglass::test::cli;
using spyglass::test::errorOf;
using spyglass::test::fixture;
using spyglass::test::kCommaPrompt;
using spyglass::test::TempDir;
using spyglass::test::writeFile;

namespace {

json reference()
{
    std::ifstream in(fixture("interventions/reference.json"));
    return json::parse(in);
}

HostTensor referenceTensor(const std::string& name)
{
    return SafetensorsFile::open(fixture("interventions/reference.safetensors"))->readFloat(name);
}

HostTensor lastLogits(LanguageModel& model, const std::vector<int>& ids)
{
    const HostTensor logits = model.trace(ids, kCaptureLogits).at("logits");
    const int64_t v = logits.shape[1];
    const auto begin = logits.values.begin() + static_cast<std::ptrdiff_t>((logits.shape[0] - 1) * v);
    return HostTensor{{v}, std::vector<float>(begin, begin + v)};
}

std::vector<int> greedy(LanguageModel& model, int n)
{
    SamplingOptions s;
    s.maxNewTokens = n;
    s.stopAtEos = false;
    return model.generate(kCommaPrompt, s).generatedIds;
}

// The reference's cases as interventions on the model (vectors from the reference file).
std::vector<Intervention> casesOf(const std::string& name)
{
    std::vector<Intervention> out;
    if (name == "factor") {
        Intervention f = parseIntervention("factor:0");
        FactorSection factors;
        factors.k = 1;
        factors.layers = {1};
        factors.loadings = referenceTensor("factor_direction");
        factors.loadings.shape = {1, 256};
        return resolveFactor(f, factors, 256);
    }
    if (name.rfind("steer:", 0) == 0) {
        Intervention s =
            parseIntervention(name == "steer:1:4" ? "steer:1:v.safetensors:4" : "steer:0:v.safetensors:-3@6,7,8,9");
        s.direction = referenceTensor("steer_vector").values;
        return {s};
    }
    size_t begin = 0;
    while (begin < name.size()) {
        const size_t space = name.find(' ', begin);
        out.push_back(parseIntervention(name.substr(begin, space - begin)));
        if (space == std::string::npos) break;
        begin = space + 1;
    }
    return out;
}

}  // namespace

TEST(Interventions, LogitsAndGreedyIdsEqualTheIndependentImplementation)
{
    auto model = spyglass::test::tinyGpt2();
    const json ref = reference();
    EXPECT_EQ(greedy(*model, 6), ref["greedy_ids"].get<std::vector<int>>());
    for (const auto& [name, expected] : ref["cases"].items()) {
        SCOPED_TRACE(name);
        model->setInterventions(casesOf(name));
        std::string key = name;
        std::replace(key.begin(), key.end(), ' ', '+');
        EXPECT_TRUE(allClose(lastLogits(*model, kCommaPrompt), referenceTensor("logits_last." + key)));
        // Generation runs with the KV cache: positions of later tokens are absolute.
        EXPECT_EQ(greedy(*model, 6), expected["greedy_ids"].get<std::vector<int>>());
    }
    model->setInterventions({});
    EXPECT_EQ(greedy(*model, 6), ref["greedy_ids"].get<std::vector<int>>());
}

TEST(Interventions, CapturesShowTheEditedValuesAndNoOpsChangeNothing)
{
    auto model = spyglass::test::tinyGpt2();
    const auto before = model->trace(kCommaPrompt);
    model->setInterventions({parseIntervention("neuron:1:3,4@2")});
    const auto after = model->trace(kCommaPrompt);
    const HostTensor& act = after.at("mlp_act.1");  // [T, F]
    EXPECT_EQ(act.at({2, 3}), 0.0F);
    EXPECT_EQ(act.at({2, 4}), 0.0F);
    EXPECT_EQ(act.at({1, 3}), before.at("mlp_act.1").at({1, 3}));
    EXPECT_EQ(after.at("resid_pre.1").values, before.at("resid_pre.1").values);  // layer 0 untouched
    // Scaling by 1 and a disabled intervention are exact no-ops.
    Intervention off = parseIntervention("head:0:0,1,2,3");
    off.enabled = false;
    model->setInterventions({parseIntervention("head:0:1*1"), off});
    EXPECT_EQ(model->trace(kCommaPrompt).at("logits").values, before.at("logits").values);
}

TEST(Interventions, SpecsRoundTripAndBadOnesFailWithOneMessage)
{
    for (const char* spec :
         {"neuron:1:3,4", "neuron:0:5,17@2,3=1.5", "head:1:3@7*0.5", "factor:2@1,2",
          "steer:3:dir/v.safetensors:-2.5@0,1", "attn:1@3*0.5", "mlp:0", "mlp:2@4,5=1", "factor:1:dir/r.json@2"})
        EXPECT_EQ(formatIntervention(parseIntervention(spec)), spec);
    EXPECT_EQ(formatIntervention(parseIntervention("neuron:1:3=0")), "neuron:1:3");
    for (const char* bad : {"neuron", "neuron:1", "neuron:x:1", "neuron:1:-2", "neuron:1:1,1", "head:1:2*nan",
                            "head:1:2=", "factor:", "steer:1:v.safetensors", "steer:1::2", "blob:1:2", "mlp:", "mlp:x",
                            "attn:1:2", "factor:1:"})
        EXPECT_THROW((void)parseIntervention(bad), OptionError) << bad;
    auto model = spyglass::test::tinyGpt2();
    EXPECT_NE(errorOf([&] {
                  model->setInterventions({parseIntervention("neuron:2:1")});
              }).find("layer 2 out of range (the model has 2 layers)"),
              std::string::npos);
    EXPECT_NE(errorOf([&] {
                  model->setInterventions({parseIntervention("head:0:4")});
              }).find("head 4 out of range (layer 0 has 4 heads)"),
              std::string::npos);
    Intervention wide = parseIntervention("steer:0:v.safetensors:1");
    wide.direction.assign(65, 1.0F);
    EXPECT_NE(errorOf([&] { model->setInterventions({wide}); }).find("the vector has 65 values"), std::string::npos);
    EXPECT_TRUE(model->interventions().empty());  // nothing set by a refused call
}

TEST(Interventions, SteeringVectorsAreWrittenReadAndComputedFromPromptSets)
{
    auto model = spyglass::test::tinyGpt2();
    TempDir dir;
    const auto v = meanDifferenceVector(*model, 1, {"1, 2, 3", "4, 5"}, {"a b c"});
    ASSERT_EQ(v.size(), 64U);
    // By hand: the mean of resid_pre.1 over all positions of each set.
    auto mean = [&](const std::vector<std::string>& prompts) {
        std::vector<double> sum(64);
        int count = 0;
        for (const auto& p : prompts) {
            const HostTensor r = model->trace(model->encode(p), kCaptureResidPre).at("resid_pre.1");
            for (int64_t t = 0; t < r.shape[0]; ++t, ++count)
                for (int64_t d = 0; d < 64; ++d) sum[static_cast<size_t>(d)] += r.at({t, d});
        }
        for (double& s : sum) s /= count;
        return sum;
    };
    const auto a = mean({"1, 2, 3", "4, 5"}), b = mean({"a b c"});
    for (size_t d = 0; d < 64; ++d) EXPECT_NEAR(v[d], a[d] - b[d], 1e-5);
    writeSteeringVector(v, dir / "v.safetensors", "test");
    Intervention s = parseIntervention("steer:1:" + (dir / "v.safetensors").string() + ":2");
    loadSteeringVector(s);
    EXPECT_EQ(s.direction, v);
    Intervention missing = parseIntervention("steer:1:" + (dir / "none.safetensors").string() + ":2");
    EXPECT_NE(errorOf([&] { loadSteeringVector(missing); }).find("none.safetensors"), std::string::npos);
    SafetensorsWriter w;
    w.addFloat("other", HostTensor{{2}, {1, 2}});
    w.write(dir / "other.safetensors");
    Intervention wrong = parseIntervention("steer:1:" + (dir / "other.safetensors").string() + ":2");
    EXPECT_NE(errorOf([&] { loadSteeringVector(wrong); }).find("other.safetensors: no tensor 'vector'"),
              std::string::npos);
}

TEST(Patching, EffectsEqualTheIndependentImplementationAtEverySite)
{
    auto model = spyglass::test::tinyGpt2();
    const json p = reference()["patching"];
    PatchOptions o;
    o.answer = p["answer"];
    o.wrong = p["wrong"];
    for (const char* site : {"resid_pre", "attn_out", "mlp_out", "head"}) {
        SCOPED_TRACE(site);
        o.site = parsePatchSite(site);
        o.batch = std::string(site) == "attn_out" ? 3 : 64;  // chunked and unchunked
        const PatchResult r = patchActivations(*model, p["clean_ids"].get<std::vector<int>>(),
                                               p["corrupt_ids"].get<std::vector<int>>(), o);
        EXPECT_NEAR(r.cleanMetric, p["clean_metric"].get<double>(), 1e-4);
        EXPECT_NEAR(r.corruptMetric, p["corrupt_metric"].get<double>(), 1e-4);
        const HostTensor expected = referenceTensor(std::string("patch_effect.") + site);
        ASSERT_EQ(r.effect.size(), static_cast<size_t>(expected.shape[0]));
        for (int64_t l = 0; l < expected.shape[0]; ++l) {
            ASSERT_EQ(r.effect[static_cast<size_t>(l)].size(), static_cast<size_t>(expected.shape[1]));
            for (int64_t c = 0; c < expected.shape[1]; ++c)
                EXPECT_NEAR(r.effect[static_cast<size_t>(l)][static_cast<size_t>(c)], expected.at({l, c}), 1e-3)
                    << "layer " << l << " column " << c;
        }
        if (o.site == PatchSite::ResidPre) {
            // Every position of a layer patched: the clean run from there on. Measured: within 6.1e-6
            // (float32 rounding differs between rows of a batch); the last position alone at layer 0
            // already restores everything the answer depends on here.
            for (double e : r.wholeLayerEffect) EXPECT_NEAR(e, 1.0, 1e-5);
        }
    }
}

TEST(Patching, BadSpecsGiveOneClearMessage)
{
    auto model = spyglass::test::tinyGpt2();
    PatchOptions o;
    o.answer = 11;
    o.wrong = 13;
    EXPECT_NE(errorOf([&] {
                  (void)patchActivations(*model, {1, 2, 3}, {1, 2}, o);
              }).find("the clean prompt has 3 tokens and the corrupt one 2"),
              std::string::npos);
    EXPECT_NE(errorOf([&] {
                  (void)patchActivations(*model, {1, 2}, {1, 2}, o);
              }).find("the same metric"),
              std::string::npos);
    o.wrong = 11;
    EXPECT_NE(errorOf([&] { (void)patchActivations(*model, {1, 2}, {1, 3}, o); }).find("the same"), std::string::npos);
    EXPECT_THROW((void)parsePatchSite("resid_mid"), OptionError);
    o.wrong = 60000;
    EXPECT_NE(errorOf([&] {
                  (void)patchActivations(*model, {1, 2}, {1, 3}, o);
              }).find("outside the vocabulary"),
              std::string::npos);
}

TEST(ContrastiveSaliency, ContrastAndForcedContinuationEqualTheIndependentGradients)
{
    auto model = spyglass::test::tinyGpt2();
    const json ref = reference();
    AnalysisOptions o;
    o.maxNewTokens = 1;
    o.lens = o.factors = o.projection = false;
    o.contrastWith = ref["contrast"]["contrast_with"].get<int>();
    Report r = analyzeIds(*model, kCommaPrompt, o);
    ASSERT_EQ(r.saliency.front().rows.size(), 1U);
    EXPECT_EQ(r.saliency.front().rows[0].tokenId, ref["contrast"]["next"].get<int>());
    const HostTensor expected = referenceTensor("contrast_scores");
    EXPECT_TRUE(allClose(HostTensor{expected.shape, r.saliency.front().rows[0].scores}, expected));
    EXPECT_NE(r.settingsJson.find("\"contrast_with\":13"), std::string::npos);

    o.contrastWith.reset();
    o.continuation = ref["forced"]["continuation"].get<std::vector<int>>();
    r = analyzeIds(*model, kCommaPrompt, o);
    ASSERT_EQ(r.saliency.front().rows.size(), o.continuation.size());
    for (size_t i = 0; i < o.continuation.size(); ++i) {
        EXPECT_EQ(r.saliency.front().rows[i].tokenId, o.continuation[i]);
        const HostTensor e = referenceTensor("forced_scores." + std::to_string(i));
        EXPECT_TRUE(allClose(HostTensor{e.shape, r.saliency.front().rows[i].scores}, e)) << i;
    }
    EXPECT_NE(r.settingsJson.find("\"forced\""), std::string::npos);
}

TEST(Interventions, TheReportRecordsThem)
{
    auto model = spyglass::test::tinyGpt2();
    model->setInterventions({parseIntervention("head:0:1,2"), parseIntervention("neuron:1:3@5*2")});
    AnalysisOptions o;
    o.maxNewTokens = 2;
    o.factorStabilitySeeds = 0;
    const Report r = analyzeIds(*model, kCommaPrompt, o);
    const json settings = json::parse(r.settingsJson);
    EXPECT_EQ(settings["interventions"], json({"head:0:1,2", "neuron:1:3@5*2"}));
    EXPECT_EQ(r.tokens[8].id, 7252);  // the ablated model's first token (reference case head:0:1,2)
}

TEST(InterventionCli, AblatePatchAndSteerFromTheCommandLine)
{
    const std::string m = fixture("gpt2-tiny-random").string();
    TempDir dir;
    auto r = cli({"generate", "--model", m, "--ids", "16,11,362,11,513,11,604,11", "--max-new-tokens", "6", "--json",
                  "--ablate", "head:0:1,2", "--ablate", "neuron:1:3,4*2"});
    ASSERT_EQ(r.code, 0) << r.err;
    auto j = json::parse(r.out);
    EXPECT_EQ(j["generated_ids"], reference()["cases"]["head:0:1,2 neuron:1:3,4*2"]["greedy_ids"]);
    EXPECT_EQ(j["interventions"], json({"head:0:1,2", "neuron:1:3,4*2"}));

    r = cli({"patch", "--model", m, "--clean-ids", "16,11,362,11,513,11,604,11", "--corrupt-ids",
             "16,11,362,11,513,11,642,11", "--answer", "#11", "--wrong", ",", "--site", "mlp_out", "--out",
             (dir / "p.json").string()});
    EXPECT_EQ(r.code, 1);  // "," is token 11 too: answer and wrong are the same
    EXPECT_NE(r.err.find("--wrong: the answer and the wrong token are the same"), std::string::npos) << r.err;
    r = cli({"patch", "--model", m, "--clean-ids", "16,11,362,11,513,11,604,11", "--corrupt-ids",
             "16,11,362,11,513,11,642,11", "--answer", ",", "--wrong", ".", "--site", "mlp_out", "--out",
             (dir / "p.json").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    std::ifstream in(dir / "p.json");
    j = json::parse(in);
    EXPECT_EQ(j["site"], "mlp_out");
    EXPECT_EQ(j["layers"], json({0, 1}));
    EXPECT_EQ(j["positions"].size(), 8U);
    EXPECT_EQ(j["effect"].size(), 2U);
    EXPECT_EQ(j["answer"], 11);
    EXPECT_EQ(j["wrong"], 13);
    const HostTensor expected = referenceTensor("patch_effect.mlp_out");
    EXPECT_NEAR(j["effect"][1][6].get<double>(), expected.at({1, 6}), 1e-3);

    writeFile(dir / "pos.txt", "1, 2, 3\n4, 5\n");
    writeFile(dir / "neg.txt", "a b c\n");
    r = cli({"steer-vector", "--model", m, "--layer", "1", "--positive", (dir / "pos.txt").string(), "--negative",
             (dir / "neg.txt").string(), "--out", (dir / "v.safetensors").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    r = cli({"generate", "--model", m, "--ids", "16,11", "--max-new-tokens", "2", "--steer",
             "1:" + (dir / "v.safetensors").string() + ":8", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["interventions"].size(), 1U);

    // Factors: analyze --save-loadings, then ablate a factor and steer along its direction.
    r = cli({"analyze", "--model", m, "--prompt", "1, 2, 3, 4,", "--max-new-tokens", "2", "--factors", "3",
             "--save-loadings", "--out", (dir / "r.json").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    r = cli({"generate", "--model", m, "--ids", "16,11,362,11", "--max-new-tokens", "2", "--json", "--ablate",
             "factor:1", "--factors-from", (dir / "r.json").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["interventions"].size(), 2U);  // one per factor layer
    r = cli({"steer-vector", "--model", m, "--factor", "1", "--factors-from", (dir / "r.json").string(), "--out",
             (dir / "f.safetensors").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(SafetensorsFile::open(dir / "f.safetensors")->readFloat("vector").shape, std::vector<int64_t>{64});

    for (const auto& [args, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"trace", "--model", m, "--ids", "1,2", "--ablate", "neuron:7:1", "--out", (dir / "t").string()},
              "intervention 'neuron:7:1': layer 7 out of range (the model has 2 layers)"},
             {{"generate", "--model", m, "--ids", "1,2", "--ablate", "factor:1"}, "factor:K needs --factors-from"},
             {{"patch", "--model", m, "--clean-ids", "1,2,3", "--corrupt-ids", "1,2", "--answer", "#1", "--wrong", "#2",
               "--out", (dir / "p2.json").string()},
              "patching needs prompts of equal token length"},
             {{"patch", "--model", m, "--clean-ids", "1,2", "--corrupt-ids", "1,3", "--answer", "#1", "--wrong", "#2",
               "--site", "resid_mid", "--out", (dir / "p2.json").string()},
              "--site: unknown site 'resid_mid'"},
             {{"patch", "--model", m, "--clean-ids", "1,2", "--corrupt-ids", "1,3", "--answer", "1, 2", "--wrong", "#2",
               "--out", (dir / "p2.json").string()},
              "--answer: '1, 2' is 3 tokens"}}) {
        r = cli(args);
        EXPECT_NE(r.code, 0) << message << "\n" << r.err;
        EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    }
}

TEST(AttentionRow, EqualsTheReferencePatternsRowAndFollowsInterventions)
{
    // gpt2-tiny-random/reference.safetensors: attn_pattern.i [H, T, T] from nanoGPT + numpy.
    auto model = spyglass::test::tinyGpt2();
    const auto reference = SafetensorsFile::open(fixture("gpt2-tiny-random/reference.safetensors"));
    for (int position : {0, 3, 7}) {
        const HostTensor row = model->attentionRow(kCommaPrompt, position);
        ASSERT_EQ(row.shape, (std::vector<int64_t>{2, 4, position + 1}));
        for (int64_t l = 0; l < 2; ++l) {
            const HostTensor pattern = reference->readFloat("attn_pattern." + std::to_string(l));
            HostTensor expected{{4, position + 1}, {}};
            HostTensor actual{{4, position + 1}, {}};
            for (int64_t h = 0; h < 4; ++h)
                for (int64_t k = 0; k <= position; ++k) {
                    expected.values.push_back(pattern.at({h, position, k}));
                    actual.values.push_back(row.at({l, h, k}));
                }
            EXPECT_TRUE(allClose(actual, expected)) << "layer " << l << " position " << position;
        }
    }
    EXPECT_NE(errorOf([&] { (void)model->attentionRow(kCommaPrompt, 8); }).find("position 8 is outside the 8 tokens"),
              std::string::npos);
    // Layer 1 reads a residual stream the ablation of layer 0's heads changed.
    const HostTensor plain = model->attentionRow(kCommaPrompt, 7);
    model->setInterventions({parseIntervention("head:0:0,1,2,3")});
    const HostTensor ablated = model->attentionRow(kCommaPrompt, 7);
    EXPECT_EQ(std::vector<float>(plain.values.begin(), plain.values.begin() + 32),
              std::vector<float>(ablated.values.begin(), ablated.values.begin() + 32));  // layer 0: unchanged
    EXPECT_NE(plain.values, ablated.values);
}

TEST(Interventions, AFactorsDirectionIsWhatItsLoadingsWriteThroughTheDownProjections)
{
    auto model = spyglass::test::tinyGpt2();
    AnalysisOptions o;
    o.maxNewTokens = 2;
    o.factorCount = 3;
    o.factorStabilitySeeds = 0;
    o.lens = o.projection = false;
    o.saliencyMethods.clear();
    const Report r = analyzeIds(*model, kCommaPrompt, o);
    ASSERT_TRUE(r.factors);
    const auto v = factorDirectionVector(*model, *r.factors, 1);
    ASSERT_EQ(v.size(), 64U);
    // By hand from the weights file: Σ_l loadings[1, l] · c_proj(l) ([256] · [256, 64]), unit length.
    const auto weights = SafetensorsFile::open(fixture("gpt2-tiny-random/model.safetensors"));
    std::vector<double> expected(64);
    for (size_t l = 0; l < r.factors->layers.size(); ++l) {
        const HostTensor w =
            weights->readFloat("transformer.h." + std::to_string(r.factors->layers[l]) + ".mlp.c_proj.weight");
        for (int64_t n = 0; n < 256; ++n)
            for (int64_t d = 0; d < 64; ++d)
                expected[static_cast<size_t>(d)] +=
                    double(r.factors->loadings.at({1, static_cast<int64_t>(l) * 256 + n})) * w.at({n, d});
    }
    double norm = 0;
    for (double e : expected) norm += e * e;
    norm = std::sqrt(norm);
    for (size_t d = 0; d < 64; ++d) EXPECT_NEAR(v[d], expected[d] / norm, 1e-5) << d;
    EXPECT_THROW((void)factorDirectionVector(*model, *r.factors, 3), OptionError);
    // Steering with it moves the next-token logits.
    Intervention steer = parseIntervention("steer:1:factor.safetensors:10");
    steer.direction = v;
    const HostTensor before = lastLogits(*model, kCommaPrompt);
    model->setInterventions({steer});
    EXPECT_FALSE(allClose(lastLogits(*model, kCommaPrompt), before));
}

TEST(InterventionEffect, LogProbsAndDeltasEqualTheIndependentImplementation)
{
    auto model = spyglass::test::tinyGpt2();
    const json ref = reference();
    AnalysisOptions o;
    o.maxNewTokens = 6;
    o.factorStabilitySeeds = 0;
    o.factorCount = 3;
    o.interventionSpecs = {"head:0:1,2"};
    const InterventionEffect e = analyzeInterventionEffect(*model, "1, 2, 3, 4,", o);
    EXPECT_TRUE(model->interventions().empty());  // as before
    const RunDiff& d = e.diff;
    ASSERT_EQ(d.prompt.size(), kCommaPrompt.size());
    for (size_t i = 0; i < kCommaPrompt.size(); ++i) EXPECT_EQ(d.prompt[i].id, kCommaPrompt[i]);
    std::vector<int> baseline, edited;
    for (const auto& t : d.baseline) baseline.push_back(t.id);
    for (const auto& t : d.edited) edited.push_back(t.id);
    EXPECT_EQ(baseline, ref["greedy_ids"].get<std::vector<int>>());
    EXPECT_EQ(edited, ref["cases"]["head:0:1,2"]["greedy_ids"].get<std::vector<int>>());
    ASSERT_TRUE(d.firstDivergence);
    EXPECT_EQ(*d.firstDivergence, 0);
    EXPECT_EQ(d.interventions, std::vector<std::string>{"head:0:1,2"});
    // Log-probabilities of the baseline's tokens, without and with the ablation (float64 reference).
    const auto expectedBaseline = ref["logprobs"]["baseline"].get<std::vector<double>>();
    const auto expectedEdited = ref["logprobs"]["forced.head:0:1,2"].get<std::vector<double>>();
    ASSERT_EQ(d.deltaLogProb.size(), 6U);
    for (size_t i = 0; i < 6; ++i) {
        EXPECT_NEAR(d.baselineLogProb[i], expectedBaseline[i], 1e-4) << i;
        EXPECT_NEAR(d.editedLogProb[i], expectedEdited[i], 1e-4) << i;
        EXPECT_FLOAT_EQ(d.deltaLogProb[i], d.editedLogProb[i] - d.baselineLogProb[i]);
        // The report's log-prob agrees with the lens' last (normed) layer, computed another way.
        const LensCell& cell = e.baseline.lens->cells.back()[kCommaPrompt.size() - 1 + i];
        EXPECT_NEAR(std::log(*cell.nextProb), d.baselineLogProb[i], 1e-4) << i;
    }
    // The forced run followed the baseline's tokens under the ablation; Δ = forced − baseline.
    ASSERT_EQ(e.forced.tokens.size(), e.baseline.tokens.size());
    for (size_t i = 0; i < e.forced.tokens.size(); ++i) EXPECT_EQ(e.forced.tokens[i].id, e.baseline.tokens[i].id);
    ASSERT_EQ(d.saliency.size(), 1U);
    ASSERT_EQ(d.saliency[0].delta.size(), 6U);
    const auto& rowB = e.baseline.saliency[0].rows[2];
    const auto& rowF = e.forced.saliency[0].rows[2];
    EXPECT_EQ(d.saliency[0].positions[2], rowB.position);
    for (size_t p = 0; p < rowB.scores.size(); ++p)
        EXPECT_FLOAT_EQ(d.saliency[0].delta[2][p], rowF.scores[p] - rowB.scores[p]);
    ASSERT_EQ(d.lensLayers, e.baseline.lens->layers);
    EXPECT_FLOAT_EQ(d.lensDeltaProb[2][5],
                    *e.forced.lens->cells[2][5].nextProb - *e.baseline.lens->cells[2][5].nextProb);
    EXPECT_TRUE(std::isnan(d.lensDeltaProb[0].back()));  // the last position predicts nothing
    EXPECT_TRUE(d.lensDeltaProb[0][0] == 0.0F);          // layer 0 (embed) is before the ablation
    // The edited run is a full report (factors, map); the comparison runs are light.
    EXPECT_TRUE(e.edited.factors && e.edited.projection);
    EXPECT_FALSE(e.baseline.factors || e.forced.factors);
    const json j = json::parse(runDiffJson(d));
    EXPECT_EQ(j["schema"], "spyglass.diff/1");
    EXPECT_EQ(j["first_divergence"], 0);
    EXPECT_TRUE(j["lens"]["delta_next_prob"][0].back().is_null());

    // An intervention that changes no token: the edited run is the forced one.
    o.interventionSpecs = {"attn:1*0.95"};
    const InterventionEffect same = analyzeInterventionEffect(*model, "1, 2, 3, 4,", o);
    EXPECT_FALSE(same.diff.firstDivergence);
    EXPECT_NE(same.diff.deltaLogProb, std::vector<float>(6, 0.0F));
    o.interventionSpecs.clear();
    EXPECT_NE(errorOf([&] { (void)analyzeInterventionEffect(*model, "1, 2,", o); }).find("no intervention"),
              std::string::npos);
}

TEST(InterventionEffect, DiffsOfRunsThatDoNotLineUpAreRefused)
{
    Report a;
    a.tokens = {{1, "a", std::nullopt, false}, {2, "b", std::nullopt, true, -0.5F}};
    Report b = a;
    b.tokens[1].id = 3;
    EXPECT_NE(errorOf([&] { (void)diffRuns(a, a, b); }).find("did not follow the baseline"), std::string::npos);
    Report c = a;
    c.tokens[0].id = 9;
    EXPECT_NE(errorOf([&] { (void)diffRuns(a, c, a); }).find("different prompts"), std::string::npos);
    const RunDiff d = diffRuns(a, b, a);
    ASSERT_TRUE(d.firstDivergence);
    EXPECT_EQ(*d.firstDivergence, 0);
    EXPECT_EQ(generatedText(d.edited), "b");
    Report noLogProb = a;
    noLogProb.tokens[1].logProb.reset();
    EXPECT_NE(errorOf([&] { (void)diffRuns(noLogProb, noLogProb, noLogProb); }).find("no token log-prob"),
              std::string::npos);
}

TEST(InterventionCli, DiffAndSelfContainedFactorSpecs)
{
    const std::string m = fixture("gpt2-tiny-random").string();
    TempDir dir;
    auto r = cli({"analyze", "--model", m, "--prompt", "1, 2, 3, 4,", "--max-new-tokens", "6", "--ablate", "head:0:1,2",
                  "--factors", "3", "--save-loadings", "--out", (dir / "r.json").string(), "--diff",
                  (dir / "d.json").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    std::ifstream in(dir / "d.json");
    const json d = json::parse(in);
    EXPECT_EQ(d["schema"], "spyglass.diff/1");
    EXPECT_EQ(d["first_divergence"], 0);
    EXPECT_EQ(d["baseline"]["tokens"].size(), 6U);
    EXPECT_EQ(d["edited"]["tokens"][0]["id"], reference()["cases"]["head:0:1,2"]["greedy_ids"][0]);
    EXPECT_EQ(d["delta_logprob"]["delta"].size(), 6U);
    EXPECT_EQ(readReport(dir / "r.json").tokens[8].id, d["edited"]["tokens"][0]["id"].get<int>());

    // factor:K:REPORT resolves itself (no --factors-from) and is recorded once.
    const std::string spec = "factor:1:" + (dir / "r.json").string();
    r = cli({"analyze", "--model", m, "--prompt", "1, 2,", "--max-new-tokens", "1", "--ablate", spec, "--out",
             (dir / "f.json").string()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(json::parse(readReport(dir / "f.json").settingsJson)["interventions"], json({spec}));
    r = cli({"generate", "--model", m, "--ids", "16,11", "--max-new-tokens", "1", "--ablate",
             "factor:1:" + (dir / "r.json.loadings.safetensors").string(), "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["interventions"].size(), 2U);  // one per factor layer

    r = cli({"analyze", "--model", m, "--prompt", "1,", "--out", (dir / "x.json").string(), "--diff",
             (dir / "x.diff.json").string()});
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("--diff needs --ablate or --steer"), std::string::npos) << r.err;
    r = cli({"analyze", "--model", m, "--prompt", "1,", "--out", (dir / "x.json").string(), "--ablate",
             "factor:0:" + (dir / "missing.json").string()});
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("missing.json"), std::string::npos) << r.err;
}
