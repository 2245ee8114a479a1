// budget_reallocation against its purpose: with the total budget fixed, money
// moves to the campaign whose true CPA is better, and buys more conversions.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;

// Two campaigns on twin channels (same traffic, same competition), budgets
// that bind; "good" converts at 0.12 per click, "poor" at 0.02.
std::string Twins(const std::string& controllers) {
  const std::string channel =
      "    traffic: {per_hour: 40000}\n    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n";
  return "name: twins\nseed: 4\nduration: 4d\ncontrol_cycle: 15m\n"
         "channels:\n  - name: a\n" +
         channel + "  - name: b\n" + channel +
         "segments:\n  - {name: s, ctr: 0.01, cvr: 0.05, conversion_delay: {distribution: exponential, mean: 1h},\n"
         "     creatives: {good/default: {cvr: 0.12}, poor/default: {cvr: 0.02}}}\n"
         "campaigns:\n"
         "  - {name: good, channels: [a], bid: 0.003, budget: {daily: 150}}\n"
         "  - {name: poor, channels: [b], bid: 0.003, budget: {daily: 150}}\n" +
         controllers;
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
  // The total never grows; it may shrink by the skipped sub-1% moves.
  for (size_t d = 0; d + 1 < camp.size(); d += 2) {
    EXPECT_LE(budget[d] + budget[d + 1], 300 + 1e-6);
    EXPECT_GE(budget[d] + budget[d + 1], 0.97 * 300);
  }
  // Same seed: more conversions after the first day (Poisson: 4 standard errors).
  const double n_moved = static_cast<double>(test::ConversionsReportedAfter(kMicrosPerDay, moved));
  const double n_base = static_cast<double>(test::ConversionsReportedAfter(kMicrosPerDay, base));
  EXPECT_GT(n_moved - n_base, 4 * std::sqrt(n_moved + n_base)) << n_moved << " vs " << n_base;
}

INSTANTIATE_TEST_SUITE_P(Methods, Reallocation, ::testing::Values("rule", "thompson"));

}  // namespace
}  // namespace adsim
