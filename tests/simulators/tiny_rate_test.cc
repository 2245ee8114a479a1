// Valid but tiny traffic rates: the arrival loop must stop at the end of the
// run instead of stepping hour by hour towards an arrival billions of hours
// away (which never finished in practice and overflowed the clock). The tests
// check the counts; that they finish at all, in a normal and a sanitizer build,
// is the other half (before the fix each one ran for hours).
#include <gtest/gtest.h>

#include <cmath>

#include "simulators/synthetic.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

int64_t OpportunitiesIn(const Results& r, SimTime from, SimTime to) {
  const auto& bucket = test::Col<int64_t>(r, "market", "bucket_start");
  const auto& opp = test::Col<int64_t>(r, "market", "opportunities");
  int64_t n = 0;
  for (size_t i = 0; i < bucket.size(); ++i)
    if (bucket[i] >= from && bucket[i] < to) n += opp[i];
  return n;
}

TEST(TinyRate, MarketWithATinyRateFinishesWithNoArrival) {
  // 1e-10 per hour for 366 days: the expected count is 8.8e-7.
  const std::string text =
      "name: tiny\nseed: 1\nduration: 366d\nchannels: [{name: c, traffic: {per_hour: 1e-10}, "
      "competition: {median: 0.01}}]\nsegments: [{name: s, ctr: 0.1, cvr: 0.1}]\ncampaigns: [{name: k, bid: 1}]\n";
  const Scenario sc = ParseScenario(text, "tiny.yaml");
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    SyntheticMarket m(sc, seed);
    std::vector<Opportunity> buf(64);
    EXPECT_EQ(m.Generate(sc.duration, buf.data(), buf.size()), 0u) << "seed " << seed;
    // Asking again (as the engine does once per bucket) stays at nothing.
    EXPECT_EQ(m.Generate(sc.duration, buf.data(), buf.size()), 0u) << "seed " << seed;
  }
}

TEST(TinyRate, RunWithPerHour1eMinus10HasNoOpportunity) {
  const Results r = RunScenario(test::Parse(test::SmallScenario("", "", "7d", 1e-10)));
  EXPECT_EQ(OpportunitiesIn(r, 0, kNever), 0);
}

TEST(TinyRate, TrafficShockOf1eMinus12EmptiesItsWindowOnly) {
  // 2000 + 500 opportunities per hour; a shock multiplies traffic by 1e-12
  // from 6h to 18h, then the rate returns to normal until the end (1d).
  const double per_hour = 2000, total_rate = per_hour * 1.25;
  const std::string shock = "shocks:\n  - {name: drought, start: 6h, end: 18h, multiply: {traffic: 1e-12}}\n";
  const Results r = RunScenario(test::Parse(test::SmallScenario(shock, "", "1d", per_hour)));
  // Inside the window: expected 12 h x 2500 x 1e-12 = 3e-8 opportunities.
  EXPECT_EQ(OpportunitiesIn(r, 6 * kMicrosPerHour, 18 * kMicrosPerHour), 0);
  // Outside it the stream continues: Poisson with mean 12 h x 2500 = 30000
  // (flat profiles), within 5 standard errors.
  const double outside =
      static_cast<double>(OpportunitiesIn(r, 0, 6 * kMicrosPerHour) + OpportunitiesIn(r, 18 * kMicrosPerHour, kNever));
  const double expected = 12 * total_rate;
  EXPECT_NEAR(outside, expected, 5 * std::sqrt(expected));
  EXPECT_GT(OpportunitiesIn(r, 18 * kMicrosPerHour, kNever), 0);
}

TEST(TinyRate, ShockToTheEndOfTheRunFinishes) {
  // A shock that lasts past the end: the arrival is never redrawn again.
  const std::string shock = "shocks:\n  - {start: 1h, end: 30d, multiply: {traffic: 1e-12}}\n";
  const Results r = RunScenario(test::Parse(test::SmallScenario(shock, "", "7d", 2000)));
  EXPECT_EQ(OpportunitiesIn(r, kMicrosPerHour, kNever), 0);
  const double first_hour = static_cast<double>(OpportunitiesIn(r, 0, kMicrosPerHour));
  EXPECT_NEAR(first_hour, 2500, 5 * std::sqrt(2500.0));
}

}  // namespace
}  // namespace adsim
