// The declarative rule controller: fires when its condition holds for the
// stated cycles, respects its cooldown, and loses a setting to a
// higher-priority rule within a cycle.
#include <gtest/gtest.h>

#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;

std::string RuleScenario(const std::string& campaign_extra, const std::string& extra = "",
                         const std::string& per_hour = "40000") {
  return "name: rule\nseed: 6\nduration: 3d\ncontrol_cycle: 15m\n"
         "channels:\n  - name: display\n    traffic: {per_hour: " +
         per_hour +
         "}\n"
         "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
         "segments:\n  - {name: s, ctr: 0.01, cvr: 0.05, conversion_value: 50,\n"
         "     conversion_delay: {distribution: exponential, mean: 30m}}\n"
         "campaigns:\n  - name: k\n    bid: 0.003\n    goal: {cpa: 6}\n" +
         campaign_extra + extra;
}

TEST(Rule, LowersTheBidWhenCpaExceedsTheTargetAndRespectsTheCooldown) {
  // Without the shock the CPA is about 0.0023 / (0.01 x 0.05) = 4.6, below
  // 1.3 x 6 = 7.8; at 200,000 opportunities an hour a 4-hour window holds
  // about 90 conversions (relative SE 11%). From 24h to 48h the conversion
  // rate falls to 0.3 x: CPA about 15.
  const Results r = RunScenario(test::Parse(RuleScenario(
      "    controllers: [{type: rule, params: {metric: cpa, threshold: 1.3, window_hours: 4, for_cycles: 2,\n"
      "                   action: scale_bid, amount: -0.1, cooldown_hours: 4, min_evidence: 5}}]\n",
      "shocks: [{name: cvr_drop, start: 24h, end: 48h, multiply: {cvr: 0.3}}]\n", "200000")));
  const auto& t = Col<int64_t>(r, "actions", "time");
  const auto& kind = Col<std::string>(r, "actions", "kind");
  const auto& req = Col<double>(r, "actions", "requested");
  const auto& old = Col<double>(r, "actions", "old");
  // It fires within the first hours of the shock (once the 4-hour window is
  // mostly shocked and 5 conversions have been seen), and again only after
  // the cooldown while the CPA stays high.
  ASSERT_GE(t.size(), 2u);
  EXPECT_LT(t[0], 30 * kMicrosPerHour);
  for (size_t i = 0; i < t.size(); ++i) {
    EXPECT_EQ(kind[i], "set_bid");
    EXPECT_NEAR(req[i], 0.9 * old[i], 1e-12);                                    // lower by 10%
    EXPECT_GE(t[i], 24 * kMicrosPerHour);                                        // not before the CPA breaks
    EXPECT_LT(t[i], 48 * kMicrosPerHour + 4 * kMicrosPerHour + kMicrosPerHour);  // nor long after (window)
    if (i > 0) {
      EXPECT_GE(t[i] - t[i - 1], 4 * kMicrosPerHour);  // cooldown
    }
  }
}

TEST(Rule, HigherPriorityWinsASettingWithinACycle) {
  // Two rules that fire every cycle on the bid: +20% at priority 2, -20% at
  // priority 1 (listed first). Only the higher-priority one changes the bid.
  const Results r = RunScenario(test::Parse(RuleScenario(
      "    guardrails: {max_bid: 10}\n"
      "    controllers:\n"
      "      - {type: rule, label: down, priority: 1, params: {metric: ctr, condition: above, relative_to: absolute,\n"
      "         threshold: 0, for_cycles: 1, window_hours: 1, amount: -0.2, cooldown_hours: 0}}\n"
      "      - {type: rule, label: up, priority: 2, params: {metric: ctr, condition: above, relative_to: absolute,\n"
      "         threshold: 0, for_cycles: 1, window_hours: 1, amount: 0.2, cooldown_hours: 0}}\n")));
  const auto& ctl = Col<std::string>(r, "actions", "controller");
  const auto& status = Col<std::string>(r, "actions", "status");
  const auto& note = Col<std::string>(r, "actions", "note");
  int up = 0, down = 0;
  for (size_t i = 0; i < ctl.size(); ++i) {
    if (ctl[i] == "up") {
      ++up;
      EXPECT_TRUE(status[i] == "applied" || status[i] == "clamped") << status[i];
    } else {
      ++down;
      EXPECT_EQ(status[i], "rejected");
      EXPECT_NE(note[i].find("superseded by a priority 2 action"), std::string::npos) << note[i];
    }
  }
  EXPECT_GT(up, 100);
  EXPECT_EQ(up, down);
}

TEST(Rule, RaisesTheBudgetWhileRoasIsHighAndBudgetRemains) {
  // ROAS about 50 x 0.05 x 0.01 / 0.0022 = 11, far above 1.5 x the goal 2.
  // The guardrails allow budgets up to twice the scenario's (by default the
  // scenario's daily budget is the ceiling and the raises would be clamped).
  const Results r = RunScenario(test::Parse(
      "name: roas\nseed: 6\nduration: 2d\ncontrol_cycle: 15m\n"
      "channels:\n  - name: display\n    traffic: {per_hour: 40000}\n"
      "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
      "segments:\n  - {name: s, ctr: 0.01, cvr: 0.05, conversion_value: 50}\n"
      "campaigns:\n  - name: k\n    bid: 0.003\n    goal: {roas: 2}\n    budget: {daily: 1000}\n"
      "    guardrails: {max_budget_raise: 2}\n"
      "    controllers: [{type: rule, params: {metric: roas, threshold: 1.5, condition: above, window_hours: 2,\n"
      "                   action: scale_daily_budget, amount: 0.2, require_budget_left: true, cooldown_hours: "
      "12}}]\n"));
  const auto& kind = Col<std::string>(r, "actions", "kind");
  const auto& nw = Col<double>(r, "actions", "new");
  ASSERT_GE(kind.size(), 2u);
  EXPECT_EQ(kind[0], "set_daily_budget");
  EXPECT_NEAR(nw[0], 1200, 1e-9);
  EXPECT_NEAR(nw[1], 1440, 1e-9);
}

}  // namespace
}  // namespace adsim
