// The samplers people use (#16): DPM++ 2M with and without Karras σ and Euler with Karras σ against
// diffusers 0.21.2 on the tiny random pipeline (tests/fixtures/sd-schedulers-2, tolerances from
// its README): timesteps exact (Euler Karras 1e-4), one step 1e-5·max(1, |x|), whole runs latents
// 2e-3, image 5e-4, uint8 off by ≤ 1 on ≤ 0.5%. The whole runs choose the sampler by its A1111 name
// on the folder's own (PNDM) config, so the name mapping is checked against diffusers' configs too.
#include "test_support.h"

#include "image/euler_scheduler.h"
#include "image/scheduler.h"
#include "io/json_file.h"
#include "models/torch_weights.h"
#include "spyglass/diffusion.h"
#include "spyglass/error.h"
#include "spyglass/safetensors.h"
#include "spyglass/scheduler_names.h"

using namespace spyglass::core;
using spyglass::test::allClose;
using spyglass::test::errorOf;
using spyglass::test::fixture;

namespace {

const SafetensorsFile& schedulerReference()
{
    static const auto file = SafetensorsFile::open(fixture("sd-schedulers-2/reference.safetensors"));
    return *file;
}

torch::Tensor schedulerRef(const std::string& name)
{
    const HostTensor h = schedulerReference().readFloat(name);
    return torch::tensor(h.values, torch::kFloat32).view(h.shape);
}

double absMax(const torch::Tensor& t)
{
    return t.abs().max().item<double>();
}

}  // namespace

TEST(MoreSchedulers, TimestepsSigmasAndEveryStepEqualDiffusers)
{
    for (const std::string run : {"dpmpp2m", "dpmpp2m_karras", "euler_karras"}) {
        const ConfigReader config(fixture("sd-schedulers-2/schedulers/" + run + "/scheduler_config.json"));
        auto scheduler = Scheduler::fromConfig(config);
        scheduler->setTimesteps(10);
        const std::string expectedName = run == "dpmpp2m"          ? "dpmpp_2m"
                                         : run == "dpmpp2m_karras" ? "dpmpp_2m_karras"
                                                                   : "euler_karras";
        EXPECT_EQ(scheduler->shortName(), expectedName);
        if (run == "euler_karras") {
            const HostTensor expected = schedulerReference().readFloat("euler_karras.timesteps");
            ASSERT_EQ(scheduler->timesteps().size(), 10U);
            for (size_t k = 0; k < 10; ++k) EXPECT_NEAR(scheduler->timesteps()[k], expected.values[k], 1e-4) << k;
            const auto& euler = dynamic_cast<const EulerScheduler&>(*scheduler);
            EXPECT_TRUE(
                allClose(toHost(euler.sigmas()), schedulerReference().readFloat("euler_karras.sigmas"), 0, 1e-6));
            EXPECT_NEAR(scheduler->initNoiseSigma(), 8.450067, 1e-5);
        } else {
            const auto ints = schedulerReference().readInt64(run + ".timesteps");
            EXPECT_EQ(scheduler->timesteps(), std::vector<double>(ints.begin(), ints.end())) << run;
            EXPECT_EQ(scheduler->initNoiseSigma(), 1.0);
        }
        const torch::Tensor latents = schedulerRef(run + ".latents");
        const torch::Tensor eps = schedulerRef(run + ".noise_pred");
        const torch::Tensor inputs = schedulerRef(run + ".model_input");
        at::Generator generator = at::detail::createCPUGenerator(0);
        for (int64_t k = 0; k < eps.size(0); ++k) {
            const auto call = static_cast<size_t>(k);
            const torch::Tensor x = latents[k].unsqueeze(0);
            EXPECT_TRUE(allClose(toHost(scheduler->scaleModelInput(x, call)), toHost(inputs[k].unsqueeze(0)),
                                 1e-5 * std::max(1.0, absMax(inputs[k])), 0))
                << run << " input " << k;
            const torch::Tensor next = scheduler->step(eps[k].unsqueeze(0), call, x, generator);
            const torch::Tensor expected = latents[k + 1].unsqueeze(0);
            EXPECT_TRUE(allClose(toHost(next), toHost(expected), 1e-5 * std::max(1.0, absMax(expected)), 0))
                << run << " step " << k;
        }
    }
}

TEST(MoreSchedulers, WholeRunsByA1111NameEqualDiffusers)
{
    auto model = DiffusionModel::load(fixture("sd-tiny-random"));
    const std::vector<std::pair<std::string, std::string>> runs{
        {"dpmpp2m", "DPM++ 2M"}, {"dpmpp2m_karras", "DPM++ 2M Karras"}, {"euler_karras", "Euler Karras"}};
    for (const auto& [run, name] : runs) {
        DiffusionOptions o;
        o.prompt = "a photo of a hand, masterpiece, best quality, detailed fingers";
        o.steps = 10;
        o.guidance = 7.5;
        o.scheduler = name;
        o.heatmaps = false;
        o.initLatents = schedulerReference().readFloat("initial_noise");
        const DiffusionResult r = model->generate(o);
        EXPECT_EQ(r.timesteps.size(), 10U) << name;
        EXPECT_TRUE(allClose(r.latents, schedulerReference().readFloat(run + ".latents"), 2e-3, 0)) << name;
        EXPECT_TRUE(allClose(r.image, schedulerReference().readFloat(run + ".image"), 5e-4, 0)) << name;
        const HostTensor rgb = schedulerReference().readFloat(run + ".image_uint8");
        ASSERT_EQ(r.rgb.size(), rgb.values.size());
        size_t off = 0;
        for (size_t i = 0; i < r.rgb.size(); ++i) {
            const double d = std::abs(double(r.rgb[i]) - rgb.values[i]);
            EXPECT_LE(d, 1.0) << name << " " << i;
            off += d > 0 ? 1 : 0;
        }
        EXPECT_LE(off, r.rgb.size() / 200) << name;
        EXPECT_EQ(r.scheduler, run == "euler_karras" ? "EulerDiscreteScheduler" : "DPMSolverMultistepScheduler");
    }
}

TEST(MoreSchedulers, NamesMapAsDiffusersDocumentsAndBadSettingsAreNamed)
{
    struct Case {
        std::string name, type, cls, shortName;
    };
    for (const Case& c : std::vector<Case>{{"DPM++ 2M Karras", "", "DPMSolverMultistepScheduler", "dpmpp_2m_karras"},
                                           {"DPM++ 2M", "Karras", "DPMSolverMultistepScheduler", "dpmpp_2m_karras"},
                                           {"DPM++ 2M", "Automatic", "DPMSolverMultistepScheduler", "dpmpp_2m"},
                                           {"dpmpp_2m", "", "DPMSolverMultistepScheduler", "dpmpp_2m"},
                                           {"Euler a", "", "EulerAncestralDiscreteScheduler", "euler_a"},
                                           {"Euler", "Karras", "EulerDiscreteScheduler", "euler_karras"},
                                           {"euler_karras", "", "EulerDiscreteScheduler", "euler_karras"},
                                           {"EulerDiscreteScheduler", "", "EulerDiscreteScheduler", "euler"},
                                           {"DDIM", "", "DDIMScheduler", "ddim"},
                                           {"PLMS", "", "PNDMScheduler", "pndm"}}) {
        const auto choice = parseSchedulerName(c.name, c.type);
        ASSERT_TRUE(choice) << c.name;
        EXPECT_EQ(choice->className, c.cls) << c.name;
        EXPECT_EQ(choice->shortName, c.shortName) << c.name;
    }
    // A class name keeps the config's Karras setting; a short name sets it.
    EXPECT_FALSE(parseSchedulerName("EulerDiscreteScheduler")->karras.has_value());
    EXPECT_EQ(parseSchedulerName("euler")->karras, false);
    for (const auto& [name, type] : std::vector<std::pair<std::string, std::string>>{{"DPM++ 2M SDE", ""},
                                                                                     {"Euler a", "Karras"},
                                                                                     {"DPM++ 2M Karras", "Uniform"},
                                                                                     {"LMS", ""},
                                                                                     {"", ""},
                                                                                     {"Euler", "Exponential"}})
        EXPECT_FALSE(parseSchedulerName(name, type)) << name << " / " << type;
    for (const auto& n : schedulerShortNames()) EXPECT_TRUE(parseSchedulerName(n)) << n;

    // The folder's PNDM config turned into DPM++ 2M Karras gives diffusers' timesteps.
    const ConfigReader folder(fixture("sd-tiny-random/scheduler/scheduler_config.json"));
    auto dpm = Scheduler::create("DPM++ 2M Karras", folder);
    dpm->setTimesteps(10);
    EXPECT_EQ(dpm->timesteps(), (std::vector<double>{999, 916, 815, 687, 523, 327, 146, 41, 7, 0}));
    // Trailing spacing for few-step models (diffusers' formula: round(1000 − k·1000/N) − 1).
    auto trailing = Scheduler::create("euler_a", folder, "trailing");
    trailing->setTimesteps(4);
    EXPECT_EQ(trailing->timesteps(), (std::vector<double>{999, 749, 499, 249}));
    auto dpmTrailing = Scheduler::create("dpmpp_2m", folder, "trailing");
    dpmTrailing->setTimesteps(3);
    EXPECT_EQ(dpmTrailing->timesteps(), (std::vector<double>{999, 666, 332}));

    const std::string path = folder.path().string();
    for (const auto& [key, value, fragment] : std::vector<std::tuple<std::string, nlohmann::json, std::string>>{
             {"algorithm_type", "sde-dpmsolver++", "algorithm_type 'sde-dpmsolver++' is not supported"},
             {"solver_order", 3, "solver_order 3 is not supported"},
             {"solver_type", "bh2", "solver_type 'bh2' is not supported"}}) {
        nlohmann::json json = folder.json();
        json["_class_name"] = "DPMSolverMultistepScheduler";
        json[key] = value;
        const std::string message = errorOf([&] { (void)Scheduler::fromConfig(ConfigReader(json, folder.path())); });
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find(fragment), std::string::npos) << message;
    }
    const std::string unknown = errorOf([&] { (void)Scheduler::create("DPM++ 3M SDE", folder); });
    EXPECT_NE(unknown.find("'DPM++ 3M SDE' is not supported"), std::string::npos) << unknown;
    EXPECT_NE(unknown.find("DPM++ 2M Karras"), std::string::npos) << unknown;
    EXPECT_THROW((void)Scheduler::create("euler", folder, "sideways"), Error);
    // Python's json writes -Infinity (diffusers' DPM configs do): read as null, strings untouched.
    EXPECT_EQ(pythonJsonConstantsToNull(R"({"a": -Infinity, "b": "NaN \" Infinity", "c": [NaN, Infinity]})"),
              R"({"a": null, "b": "NaN \" Infinity", "c": [null, null]})");
}
