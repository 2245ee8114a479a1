// The value bidders' exposure fatigue model (strategies/bidders/lib/fatigue_model.h)
// against its purpose: on a click series drawn from a known fatigue law the
// current click rate it estimates tracks the true one within its standard
// error, where the history's average (today's estimate) does not; without
// fatigue it leaves today's estimate as it is; and the value bidders that
// cannot use it refuse it with an error naming the field.
#include "strategies/bidders/lib/fatigue_model.h"

#include <gtest/gtest.h>

#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/mersenne_twister.hpp>
#include <cmath>
#include <vector>

#include "core/registry.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

constexpr SimTime kCycle = 15 * kMicrosPerMinute;
constexpr int kCyclesPerDay = 96;

// Impressions of creative k in cycle t (15 minutes): creative 0 serves 500 a
// cycle from 8h to 20h and 100 otherwise; creative 1 twice that on days 0 to
// 2, nothing on day 3 (it rests), then like creative 0.
double Schedule(int k, int t) {
  const int day = t / kCyclesPerDay, hour = (t % kCyclesPerDay) / 4;
  const double base = hour >= 8 && hour < 20 ? 500 : 100;
  if (k == 0) return base;
  return day < 3 ? 2 * base : day == 3 ? 0 : base;
}

// The engine's fatigue law (core/engine/run_state.h, FatigueState) for one
// (segment, creative): exposures decay as exp(-dt / recovery) and each
// impression, before adding 1, clicks with probability ctr0 * 2^(-E / h).
struct TrueCreative {
  double exposure = 0;
  double clicks_of(double n, double ctr0, double half_life, double recovery_hours, boost::random::mt19937_64& rng) {
    double clicks = 0;
    const double step_hours = n > 0 ? 0.25 / n : 0.25;
    for (int i = 0; i < static_cast<int>(n); ++i) {
      exposure *= std::isfinite(recovery_hours) ? std::exp(-step_hours / recovery_hours) : 1.0;
      if (boost::random::bernoulli_distribution<double>(ctr0 * std::exp2(-exposure / half_life))(rng)) ++clicks;
      exposure += 1.0;
    }
    if (n == 0 && std::isfinite(recovery_hours)) exposure *= std::exp(-0.25 / recovery_hours);
    return clicks;
  }
  // Mean click rate over a cycle of n evenly spread impressions from here, without drawing.
  double mean_rate(double n, double ctr0, double half_life, double recovery_hours) const {
    if (n == 0) return ctr0 * std::exp2(-exposure * std::exp(-0.125 / recovery_hours) / half_life);
    double e = exposure, sum = 0;
    const double step_hours = 0.25 / n;
    for (int i = 0; i < static_cast<int>(n); ++i) {
      e *= std::isfinite(recovery_hours) ? std::exp(-step_hours / recovery_hours) : 1.0;
      sum += ctr0 * std::exp2(-e / half_life);
      e += 1.0;
    }
    return sum / n;
  }
};

// A snapshot of one channel and one segment with `creatives` creatives, no
// counts yet.
Snapshot OneCell(int creatives) {
  Snapshot snap;
  snap.num_channels = 1;
  snap.num_segments = 1;
  snap.num_creatives = {creatives};
  snap.cell_offset = {0};
  snap.control_cycle = kCycle;
  snap.last_cycle.assign(static_cast<size_t>(creatives), ObservedStats{});
  return snap;
}

// Runs a week of cycles, one channel (impression-billed), one segment, two
// creatives sharing ctr0, and calls `check(t, model, cell_ctr, clicks,
// true_next_rate per creative)` at the end of each day.
template <class Check>
void Week(double ctr0, double half_life, double recovery_hours, uint64_t seed, Check check) {
  boost::random::mt19937_64 rng(seed);
  valuation::ExposureFatigue model;
  Snapshot snap = OneCell(2);
  TrueCreative truth[2];
  double impressions = 0, clicks = 0;
  const int cycles = 7 * kCyclesPerDay;
  for (int t = 0; t < cycles; ++t) {
    for (int k = 0; k < 2; ++k) {
      const double n = Schedule(k, t);
      const double c = truth[k].clicks_of(n, ctr0, half_life, recovery_hours, rng);
      snap.last_cycle[static_cast<size_t>(k)].impressions = static_cast<int64_t>(n);
      snap.last_cycle[static_cast<size_t>(k)].clicks = static_cast<int64_t>(c);
      impressions += n;
      clicks += c;
    }
    snap.time = (t + 1) * kCycle;
    model.Update(snap, 0, {false});
    if ((t + 1) % kCyclesPerDay != 0 || t + 1 == cycles) continue;
    const double next[2] = {truth[0].mean_rate(Schedule(0, t + 1), ctr0, half_life, recovery_hours),
                            truth[1].mean_rate(Schedule(1, t + 1), ctr0, half_life, recovery_hours)};
    check((t + 1) / kCyclesPerDay, model, clicks / impressions, clicks, next);
  }
}

// With h = 40,000 impressions and recovery 2 days (both on the grid), the
// estimate of creative k's click rate in the next cycle is the cell's click
// rate times Factor(k). Its standard error, relative: the fatigue law's
// posterior spread (FactorSd / Factor) and the cell rate's Poisson error
// (1 / sqrt(clicks)) in quadrature. The estimate must lie within 3 of its SEs
// of the true mean rate of the next cycle at the end of every day (6
// checkpoints x 2 creatives, fixed seed); so must creative_thompson's
// per-creative estimate (the creative's clicks over its fatigue-adjusted
// impressions, times its next fatigue; SE with 1 / sqrt(its own clicks)). The history's average alone
// (today's estimate, Factor = 1) must miss by more than 3 SEs at least once
// on days 3 to 6, when creative 1 has rested (else the test could not fail).
TEST(ExposureFatigue, TracksTheTrueClickRateOfAKnownFatigueLaw) {
  const double ctr0 = 0.02;
  int naive_misses = 0, checks = 0;
  Week(ctr0, 40000, 48, 20261207,
       [&](int day, const valuation::ExposureFatigue& model, double cell_ctr, double clicks, const double* next) {
         for (int k = 0; k < 2; ++k) {
           const double factor = model.Factor(0, 0, k);
           const double estimate = cell_ctr * factor;
           const double relative_se = std::hypot(model.FactorSd(0, 0, k) / factor, 1.0 / std::sqrt(clicks));
           const double se = estimate * relative_se;
           EXPECT_LE(std::abs(estimate - next[k]), 3 * se) << "day " << day << " creative " << k << ": estimate "
                                                           << estimate << " true " << next[k] << " SE " << se;
           // creative_thompson's view: the creative's own fresh rate (its clicks
           // over its fatigue-adjusted impressions) times its next fatigue.
           const double own =
               model.CreativeClicks(k) / model.CreativeAdjustedImpressions(k) * model.CreativeNextFatigue(k);
           const double own_se =
               own * std::hypot(model.FactorSd(0, 0, k) / factor, 1.0 / std::sqrt(model.CreativeClicks(k)));
           EXPECT_LE(std::abs(own - next[k]), 3 * own_se)
               << "day " << day << " creative " << k << ": per-creative estimate " << own << " true " << next[k];
           if (day >= 3 && std::abs(cell_ctr - next[k]) > 3 * cell_ctr / std::sqrt(clicks)) ++naive_misses;
           ++checks;
         }
       });
  EXPECT_EQ(checks, 12);
  EXPECT_GT(naive_misses, 0) << "the history's average is already within its SE: the law is too weak to test";
}

// Without fatigue the click rate is constant and the model must leave the
// cell's estimate as it is: Factor within 3 SEs of 1 at the end of every day,
// the SE as above (relative: FactorSd and 1 / sqrt(clicks) in quadrature).
TEST(ExposureFatigue, WithoutFatigueMatchesTheCellsEstimate) {
  Week(0.02, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity(), 7,
       [&](int day, const valuation::ExposureFatigue& model, double, double clicks, const double*) {
         for (int k = 0; k < 2; ++k) {
           const double se = std::hypot(model.FactorSd(0, 0, k), 1.0 / std::sqrt(clicks));
           EXPECT_LE(std::abs(model.Factor(0, 0, k) - 1.0), 3 * se)
               << "day " << day << " creative " << k << ": factor " << model.Factor(0, 0, k) << " SE " << se;
         }
       });
}

// Click-billed channels bid per click, which fatigue does not change: factor 1.
TEST(ExposureFatigue, ClickBilledChannelsAreNotScaled) {
  valuation::ExposureFatigue model;
  Snapshot snap = OneCell(1);
  snap.last_cycle[0].impressions = 50000;
  snap.last_cycle[0].clicks = 100;
  for (int t = 1; t <= 8; ++t) {
    snap.time = t * kCycle;
    model.Update(snap, 0, {true});
  }
  EXPECT_EQ(model.Factor(0, 0, 0), 1.0);
}

// value_rtb and bid_shading bid per (channel, segment), not per creative:
// `fatigue: exposure` would be ignored, so it is a ConfigError naming the field.
TEST(ExposureFatigue, BiddersThatCannotUseItRefuseIt) {
  for (const std::string bidder : {"value_rtb", "bid_shading"}) {
    const std::string text =
        "name: f\nseed: 1\nstart: '2026-03-02T00:00:00'\nduration: 1h\nbucket: 1h\ncontrol_cycle: 15m\n"
        "channels:\n  - {name: display, auction: second_price, floor: 0.0001, traffic: {per_hour: 100}, "
        "competition: {competitors: 1, median: 0.001, sigma: 0.3}}\n"
        "segments:\n  - {name: s, users: 1000, ctr: 0.01, cvr: 0.1, conversion_value: 10}\n"
        "campaigns:\n  - name: k\n    bid: 0.01\n    bidder: {type: " +
        bidder + ", params: {fatigue: exposure}}\n";
    try {
      RunScenario(test::Parse(text));
      ADD_FAILURE() << bidder << " with fatigue: exposure must be a ConfigError";
    } catch (const ConfigError& e) {
      ASSERT_EQ(e.issues().size(), 1u);
      EXPECT_EQ(e.issues()[0].path, "campaigns[0].bidder.params.fatigue");
      EXPECT_NE(e.issues()[0].expected.find("target_cpa"), std::string::npos) << e.issues()[0].expected;
    }
  }
}

}  // namespace
}  // namespace adsim
