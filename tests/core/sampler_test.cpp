// Sampler: greedy is argmax; a seed reproduces; top-k and top-p restrict the choice.
#include "models/sampler.h"

#include "spyglass/error.h"

#include <gtest/gtest.h>

#include <set>

using namespace spyglass::core;

TEST(Sampler, GreedyIsArgmax)
{
    Sampler s({});
    EXPECT_EQ(s.next({0.1F, 3.0F, -1.0F, 2.9F}), 1);
}

TEST(Sampler, SeedReproducesAndTemperatureSpreads)
{
    SamplingOptions o;
    o.temperature = 1.0F;
    o.seed = 42;
    const std::vector<float> logits{1.0F, 1.0F, 1.0F, 1.0F};
    Sampler a(o), b(o);
    std::set<int> seen;
    for (int i = 0; i < 200; ++i) {
        const int x = a.next(logits);
        EXPECT_EQ(x, b.next(logits));
        seen.insert(x);
    }
    EXPECT_EQ(seen.size(), 4u);
}

TEST(Sampler, TopKAndTopPRestrictTheChoice)
{
    SamplingOptions o;
    o.temperature = 1.0F;
    o.topK = 2;
    const std::vector<float> logits{5.0F, 0.0F, 4.9F, 4.8F};
    Sampler k(o);
    for (int i = 0; i < 200; ++i) {
        const int x = k.next(logits);
        EXPECT_TRUE(x == 0 || x == 2);
    }
    o.topK = 0;
    o.topP = 0.5F;  // the first token alone has ~37% mass: the second is needed to reach 50%
    Sampler p(o);
    std::set<int> seen;
    for (int i = 0; i < 300; ++i) seen.insert(p.next(logits));
    EXPECT_EQ(seen, (std::set<int>{0, 2}));
}

TEST(Sampler, RejectsBadSettings)
{
    SamplingOptions o;
    o.topP = 0.0F;
    EXPECT_THROW(Sampler{o}, Error);
    o.topP = 1.0F;
    o.temperature = -1.0F;
    EXPECT_THROW(Sampler{o}, Error);
}
