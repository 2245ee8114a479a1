// budget_reallocation against its purpose: with the total budget fixed, money
// moves to the campaign whose true CPA is better, and buys more conversions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;

// Two campaigns on twin channels (same traffic, same competition), budgets
// that bind; "good" converts at 0.12 per click, "poor" at 0.02. The
// guardrails let a campaign's daily budget go up to twice what the scenario
// set (by default it could not be raised at all, and nothing would move).
std::string Twins(const std::string& controllers, const std::string& guardrails = "{max_budget_raise: 2}") {
  const std::string channel =
      "    traffic: {per_hour: 40000}\n    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n";
  return "name: twins\nseed: 4\nduration: 4d\ncontrol_cycle: 15m\nguardrails: " + guardrails +
         "\n"
         "channels:\n  - name: a\n" +
         channel + "  - name: b\n" + channel +
         "segments:\n  - {name: s, ctr: 0.01, cvr: 0.05, conversion_delay: {distribution: exponential, mean: 1h},\n"
         "     creatives: {good/default: {cvr: 0.12}, poor/default: {cvr: 0.02}}}\n"
         "campaigns:\n"
         "  - {name: good, channels: [a], bid: 0.003, budget: {daily: 150}}\n"
         "  - {name: poor, channels: [b], bid: 0.003, budget: {daily: 150}}\n" +
         controllers;
}

// Only unspent budget moves, so the pool's spend never exceeds the pool, to
// the micro: per day, the campaigns' spend together is at most the sum of the
// daily budgets the scenario set, and the budgets themselves keep that sum
// (less at most a micro per move, lost to rounding down in the ledger).
void ExpectPoolHeld(const Results& r, double pool) {
  const auto& day = Col<int64_t>(r, "daily", "day_start");
  const auto& budget = Col<double>(r, "daily", "daily_budget");
  const auto& spend = Col<double>(r, "daily", "spend");
  const int64_t pool_micros = std::llround(pool * kMicrosPerUnit);
  for (size_t d = 0; d + 1 < day.size(); d += 2) {
    const int64_t spent = std::llround(spend[d] * kMicrosPerUnit) + std::llround(spend[d + 1] * kMicrosPerUnit);
    const int64_t held = std::llround(budget[d] * kMicrosPerUnit) + std::llround(budget[d + 1] * kMicrosPerUnit);
    EXPECT_LE(spent, pool_micros) << "day " << day[d] / kMicrosPerDay << ": spend " << spent << " micros";
    EXPECT_LE(held, pool_micros) << "day " << day[d] / kMicrosPerDay;
    EXPECT_GE(held, pool_micros - 100) << "day " << day[d] / kMicrosPerDay;
  }
}

class Reallocation : public ::testing::TestWithParam<std::string> {};

TEST_P(Reallocation, MovesBudgetToTheBetterCampaignAndBuysMoreConversions) {
  const Results base = RunScenario(test::Parse(Twins("")));
  const Results moved = RunScenario(test::Parse(
      Twins("controllers: [{type: budget_reallocation, params: {method: " + GetParam() + ", interval_hours: 3}}]\n")));
  // The daily table's last day: good holds more than poor, poor keeps its floor.
  const auto& camp = Col<int64_t>(moved, "daily", "campaign");
  const auto& budget = Col<double>(moved, "daily", "daily_budget");
  const size_t last = camp.size() - 2;  // rows of the last day: good, poor
  EXPECT_GT(budget[last], 1.5 * budget[last + 1]);
  EXPECT_GE(budget[last + 1], 0.1 * 300 - 1e-6);
  ExpectPoolHeld(moved, 300);
  // Same seed: more conversions after the first day (Poisson: 4 standard errors).
  const double n_moved = static_cast<double>(test::ConversionsReportedAfter(kMicrosPerDay, moved));
  const double n_base = static_cast<double>(test::ConversionsReportedAfter(kMicrosPerDay, base));
  EXPECT_GT(n_moved - n_base, 4 * std::sqrt(n_moved + n_base)) << n_moved << " vs " << n_base;
}

INSTANTIATE_TEST_SUITE_P(Methods, Reallocation, ::testing::Values("rule", "thompson"));

// Large steps (max_change 0.9) every hour: by the afternoon "poor" has spent
// most of its day's budget, and cutting it to its target share would hand
// budget it already spent to "good" (a pool of 300 spending more than 300).
// Only the unspent part may move.
TEST(ReallocationLimits, BigStepsMoveOnlyUnspentBudget) {
  const Results r = RunScenario(
      test::Parse(Twins("controllers: [{type: budget_reallocation, params: {interval_hours: 1, floor_share: 0}}]\n",
                        "{max_budget_raise: 3, review_budget_raise: 3, max_change: 0.9}")));
  ExpectPoolHeld(r, 300);
  // Budget did move: by the last day "good" holds most of the pool.
  const auto& budget = Col<double>(r, "daily", "daily_budget");
  EXPECT_GT(budget[budget.size() - 2], 200.0);
}

// Two paced campaigns with the same value per conversion and the same
// competition. "wide" has plenty of traffic: more budget buys proportionally
// more (its response is nearly linear over the pool). "narrow" has a
// fortieth of the traffic: at 150 a day it wins most of what it can and cannot
// spend its budget, so its marginal return of budget is far below its average
// return, and far below wide's. Total value is higher when budget moves from
// narrow to wide, down to where narrow just spends its budget.
std::string Saturating(const std::string& controllers, int seed) {
  return "name: saturating\nseed: " + std::to_string(seed) +
         "\nduration: 6d\ncontrol_cycle: 15m\nguardrails: {max_budget_raise: 2}\n"
         "channels:\n"
         "  - {name: a, traffic: {per_hour: 40000}, competition: {competitors: 5, median: 0.002, sigma: 0.6}}\n"
         "  - {name: b, traffic: {per_hour: 1000}, competition: {competitors: 5, median: 0.002, sigma: 0.6}}\n"
         "segments:\n  - {name: s, ctr: 0.01, cvr: 0.05, conversion_value: 10,\n"
         "     conversion_delay: {distribution: exponential, mean: 1h}}\n"
         "campaigns:\n"
         "  - {name: wide, channels: [a], bid: 0.002, budget: {daily: 150}, controllers: [pid_pacing]}\n"
         "  - {name: narrow, channels: [b], bid: 0.002, budget: {daily: 150}, controllers: [pid_pacing]}\n" +
         controllers;
}

double ValueAfter(SimTime from, const Results& r) {
  const auto& bucket = Col<int64_t>(r, "aggregates", "bucket_start");
  const auto& value = Col<double>(r, "aggregates", "conversion_value");
  double v = 0;
  for (size_t i = 0; i < bucket.size(); ++i)
    if (bucket[i] >= from) v += value[i];
  return v;
}

TEST(MarginalReallocation, MovesBudgetToTheHigherMarginalReturnAndBuysMoreValue) {
  const std::string ctl =
      "controllers: [{type: budget_reallocation, params: {method: marginal, goal: roas, interval_hours: 6}}]\n";
  double gain = 0, var = 0;
  for (int seed : {11, 12, 13}) {
    const Results base = RunScenario(test::Parse(Saturating("", seed)));
    const Results moved = RunScenario(test::Parse(Saturating(ctl, seed)));
    const auto& budget = Col<double>(moved, "daily", "daily_budget");
    const auto& spend = Col<double>(moved, "daily", "spend");
    const size_t last = budget.size() - 2;  // rows of the last day: wide, narrow
    EXPECT_GT(budget[last], 1.5 * budget[last + 1]) << "seed " << seed;
    ExpectPoolHeld(moved, 300);
    for (size_t d = 0; d + 1 < budget.size(); d += 2)
      EXPECT_GE(budget[d + 1], 0.1 * 300 - 1e-6) << "seed " << seed;  // floors: 10% of the pool
    // Value after the first day, paired on the seed. Each conversion is worth
    // 10, so a value total V is 10 x Poisson(V / 10): variance 10 V.
    const double v_moved = ValueAfter(kMicrosPerDay, moved), v_base = ValueAfter(kMicrosPerDay, base);
    gain += v_moved - v_base;
    var += 10 * (v_moved + v_base);
    std::printf("seed %d: value %.0f vs even split %.0f; last day budgets %.1f / %.1f, spend %.1f / %.1f\n", seed,
                v_moved, v_base, budget[last], budget[last + 1], spend[last], spend[last + 1]);
  }
  // Over the three seeds: more value than the even split by 3 SE of the sum.
  EXPECT_GT(gain, 3 * std::sqrt(var)) << "gain " << gain << ", SE " << std::sqrt(var);
  std::printf("total gain %.0f, SE %.0f\n", gain, std::sqrt(var));
}

// Two identical campaigns on twin channels (same traffic, competition and
// rates); a checkout bug stops every conversion of "shocked" from day 1 to
// day 3, then the two are identical again for four days. Budgets 40 a day,
// reallocation every 6 hours with goal cpa.
std::string ShockThatEnds(double half_life_hours, int seed, const std::string& method = "rule") {
  const std::string channel = "traffic: {per_hour: 10000}, competition: {competitors: 5, median: 0.002, sigma: 0.6}}\n";
  return "name: reallocation_recovery\nseed: " + std::to_string(seed) +
         "\nduration: 7d\ncontrol_cycle: 15m\nguardrails: {max_budget_raise: 2}\n"
         "channels:\n  - {name: a, " +
         channel + "  - {name: b, " + channel +
         "segments:\n  - {name: s, ctr: 0.02, cvr: 0.2, conversion_delay: {distribution: exponential, mean: 1h}}\n"
         "campaigns:\n"
         "  - {name: shocked, channels: [a], bid: 0.003, budget: {daily: 40}}\n"
         "  - {name: steady, channels: [b], bid: 0.003, budget: {daily: 40}}\n"
         "shocks:\n  - {name: checkout_bug, start: 1d, end: 3d, channels: [a], multiply: {cvr: 0}}\n"
         "controllers: [{type: budget_reallocation, params: {method: " +
         method + ", interval_hours: 6, half_life_hours: " + std::to_string(half_life_hours) + "}}]\n";
}

// "shocked"'s share of the pool at the end of days 5 and 6 (two and three
// days after the shock ended), averaged.
double ShareAfterTheShock(const Results& r) {
  const auto& budget = Col<double>(r, "daily", "daily_budget");  // rows: day 0 shocked, day 0 steady, day 1 ...
  double share = 0;
  for (int day : {5, 6}) share += budget[2 * day] / (budget[2 * day] + budget[2 * day + 1]) / 2;
  return share;
}

// Judged on totals since the start (half_life_hours 0, the default), the
// shock keeps counting against "shocked" after it ended; with a 12-hour
// half-life its evidence from the shock weighs 2^(-48/12) = 1/16 two days
// later, and the split returns to even. Paired on seeds 1, 2, 3.
TEST(ReallocationHalfLife, RecoversTheBudgetAfterAShockEnds) {
  std::vector<double> gains, recovered;
  for (int seed : {1, 2, 3}) {
    const double old_share = ShareAfterTheShock(RunScenario(test::Parse(ShockThatEnds(0, seed))));
    const double new_share = ShareAfterTheShock(RunScenario(test::Parse(ShockThatEnds(12, seed))));
    std::printf("seed %d: share of shocked after the shock %.3f (since the start) vs %.3f (half-life 12 h)\n", seed,
                old_share, new_share);
    gains.push_back(new_share - old_share);
    recovered.push_back(new_share);
  }
  // Paired over the seeds: the half-life gives "shocked" more of the pool
  // back; t = mean / (sd / sqrt 3) above t(0.995, 2 df) = 9.92.
  double mean = 0, var = 0;
  for (double g : gains) mean += g / 3;
  for (double g : gains) var += (g - mean) * (g - mean) / 2;
  EXPECT_GT(mean, 9.92 * std::sqrt(var / 3)) << "mean gain " << mean << ", sd " << std::sqrt(var);
  // And it is back to an even split within 3 SE. The rule's share is
  // e_a / (e_a + e_b) with e = discounted conversions / spend; each campaign
  // has about 57 conversions a day (2.4 an hour), so its discounted count
  // holds about n = 2.4 x 12 / ln 2 = 41 and the share's sd at 0.5 is about
  // 0.25 x sqrt(2 / n) = 0.055 per reallocation; the mean over 3 seeds
  // (counting the two days as one draw) has SE 0.055 / sqrt 3 = 0.032.
  double level = 0;
  for (double s : recovered) level += s / 3;
  EXPECT_NEAR(level, 0.5, 3 * 0.032);
}

// The same with method thompson (shares = the posterior probability that a
// campaign is the better one): judged since the start, the shock's week-long
// memory keeps "shocked" below the even split; with the 12-hour half-life
// it gets its share back. Paired on seeds 1, 2, 3, the same t criterion.
TEST(ReallocationHalfLife, ThompsonRecoversTheBudgetAfterAShockEnds) {
  std::vector<double> gains;
  for (int seed : {1, 2, 3}) {
    const double old_share = ShareAfterTheShock(RunScenario(test::Parse(ShockThatEnds(0, seed, "thompson"))));
    const double new_share = ShareAfterTheShock(RunScenario(test::Parse(ShockThatEnds(12, seed, "thompson"))));
    std::printf("thompson, seed %d: share of shocked after the shock %.3f (since the start) vs %.3f (half-life 12 h)\n",
                seed, old_share, new_share);
    gains.push_back(new_share - old_share);
  }
  double mean = 0, var = 0;
  for (double g : gains) mean += g / 3;
  for (double g : gains) var += (g - mean) * (g - mean) / 2;
  EXPECT_GT(mean, 9.92 * std::sqrt(var / 3)) << "mean gain " << mean << ", sd " << std::sqrt(var);
}

// The marginal method fits per-interval points, which a half-life would not
// change: it refuses one rather than ignore it.
TEST(ReallocationHalfLife, MarginalRejectsAHalfLife) {
  try {
    RunScenario(test::Parse(
        Twins("controllers: [{type: budget_reallocation, params: {method: marginal, half_life_hours: 12}}]\n")));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("controllers[0].params.half_life_hours"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace adsim
