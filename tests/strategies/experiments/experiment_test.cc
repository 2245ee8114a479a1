// Experiments in scenarios: arm assignment (by opportunity or by user),
// the ab_test analysis and its decisions through the guardrails, and the
// scenario errors of the experiments section.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "core/engine.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;

// One channel, one segment, two (or three) identical campaigns that differ
// only where `treat_extra` says; arms of one experiment.
std::string AbScenario(const std::string& experiment, const std::string& treat_extra = "",
                       const std::string& segment_extra = "", const std::string& duration = "2d",
                       const std::string& more_campaigns = "") {
  return "name: ab\nseed: 5\nstart: '2026-03-02T00:00:00'\nduration: " + duration +
         "\ncontrol_cycle: 15m\n"
         "channels:\n"
         "  - {name: display, auction: second_price, traffic: {per_hour: 20000},\n"
         "     competition: {competitors: 5, median: 0.002, sigma: 0.6}}\n"
         "segments:\n"
         "  - {name: a, users: 3000, ctr: 0.02, cvr: 0.05, conversion_delay: {distribution: exponential, mean: 1h}" +
         segment_extra +
         "}\n"
         "campaigns:\n"
         "  - {name: control, bid: 0.004, creatives: [x]}\n"
         "  - {name: treat, creatives: [x]" +
         (treat_extra.find("bid:") == std::string::npos ? ", bid: 0.004" : "") + treat_extra + "}\n" + more_campaigns +
         "experiments:\n" + experiment;
}

int64_t Sum(const Results& r, const std::string& table, const std::string& col, const std::string& key_col = "",
            int64_t key = -1) {
  const auto& v = Col<int64_t>(r, table, col);
  int64_t s = 0;
  for (size_t i = 0; i < v.size(); ++i)
    if (key_col.empty() || Col<int64_t>(r, table, key_col)[i] == key) s += v[i];
  return s;
}

TEST(Experiment, EachOpportunityGoesToExactlyOneArmInTheConfiguredShares) {
  const Results r = RunScenario(
      test::Parse(AbScenario("  - {name: e, arms: [control, treat], weights: [1, 3], split: opportunity}\n")));
  const int64_t market = Sum(r, "market", "opportunities");
  const int64_t c0 = Sum(r, "aggregates", "opportunities", "campaign", 0);
  const int64_t c1 = Sum(r, "aggregates", "opportunities", "campaign", 1);
  // Both campaigns target everything and are never paused: every opportunity
  // is a request of exactly one of them.
  EXPECT_EQ(c0 + c1, market);
  const double share = static_cast<double>(c0) / static_cast<double>(market);
  const double se = std::sqrt(0.25 * 0.75 / static_cast<double>(market));
  EXPECT_NEAR(share, 0.25, 4 * se) << c0 << " of " << market;
}

// Which campaign each user was served by, from the event log.
std::map<int64_t, std::set<int64_t>> ArmsPerUser(const Results& r) {
  const auto& user = Col<int64_t>(r, "events", "user");
  const auto& winner = Col<int64_t>(r, "events", "winner");
  std::map<int64_t, std::set<int64_t>> out;
  for (size_t i = 0; i < user.size(); ++i)
    if (winner[i] >= 0) out[user[i]].insert(winner[i]);
  return out;
}

TEST(Experiment, UserSplitKeepsEachUserInOneArmAndOpportunitySplitDoesNot) {
  const std::string rec = "recording: {events: true}\n";
  const Results by_user =
      RunScenario(test::Parse(AbScenario("  - {name: e, arms: [control, treat], split: user}\n" + rec, "", "", "6h")));
  const Results by_opp = RunScenario(
      test::Parse(AbScenario("  - {name: e, arms: [control, treat], split: opportunity}\n" + rec, "", "", "6h")));
  const auto u = ArmsPerUser(by_user), o = ArmsPerUser(by_opp);
  ASSERT_GT(u.size(), 2000u);  // 3,000 users, many impressions each
  int users_in_both = 0, users_in_arm0 = 0;
  for (const auto& [user, arms] : u) {
    users_in_both += arms.size() > 1;
    users_in_arm0 += arms.count(0) > 0;
  }
  EXPECT_EQ(users_in_both, 0);
  const double n = static_cast<double>(u.size());
  EXPECT_NEAR(users_in_arm0 / n, 0.5, 4 * std::sqrt(0.25 / n));
  int mixed = 0;
  for (const auto& [user, arms] : o) mixed += arms.size() > 1;
  EXPECT_GT(mixed, static_cast<int>(o.size()) / 2);
}

// Index of the first row of `table` whose text column `col` equals `value`, or -1.
int FindRow(const Results& r, const std::string& table, const std::string& col, const std::string& value) {
  const auto& v = Col<std::string>(r, table, col);
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] == value) return static_cast<int>(i);
  return -1;
}

TEST(Experiment, AClearlyBetterArmIsShippedAndThenTakesAllTheTraffic) {
  // The treatment's creative has a 50% higher click rate.
  const Results r = RunScenario(test::Parse(AbScenario(
      "  - {name: e, arms: [control, treat], split: opportunity,\n"
      "     analyses: [{type: ab_test, params: {metric: ctr, method: ld_obf, mde: 0.2, baseline_rate: 0.02}}]}\n",
      "", ", creatives: {treat/x: {ctr: 0.03}}")));
  const int row = FindRow(r, "experiment_looks", "decision", "ship");
  ASSERT_GE(row, 0);
  const SimTime decided = Col<int64_t>(r, "experiment_looks", "time")[row];
  EXPECT_GT(Col<double>(r, "experiment_looks", "statistic")[row], 0);
  // The control is paused through an applied action, with the experiment's reason.
  const int act = FindRow(r, "actions", "kind", "pause_campaign");
  ASSERT_GE(act, 0);
  EXPECT_EQ(Col<int64_t>(r, "actions", "campaign")[act], 0);
  EXPECT_EQ(Col<std::string>(r, "actions", "status")[act], "applied");
  EXPECT_EQ(Col<std::string>(r, "actions", "controller")[act], "experiment:ab_test");
  EXPECT_NE(Col<std::string>(r, "actions", "reason")[act].find("experiment 'e'"), std::string::npos);
  // From the next bucket on, the control receives no request and the treatment all of them.
  const auto& bucket = Col<int64_t>(r, "aggregates", "bucket_start");
  const auto& camp = Col<int64_t>(r, "aggregates", "campaign");
  const auto& req = Col<int64_t>(r, "aggregates", "opportunities");
  int64_t after_control = 0, after_treat = 0;
  for (size_t i = 0; i < bucket.size(); ++i)
    if (bucket[i] > decided) (camp[i] == 0 ? after_control : after_treat) += req[i];
  EXPECT_EQ(after_control, 0);
  EXPECT_GT(after_treat, 0);
  EXPECT_EQ(Col<int64_t>(r, "experiments", "paused_at_end")[0], 1);
  EXPECT_EQ(Col<int64_t>(r, "experiments", "paused_at_end")[1], 0);
}

TEST(Experiment, ValuePerRequestIsAMeanTestWithTheObservedVariance) {
  // Lognormal values; the treatment converts 60% more often, so it earns more per request.
  const std::string seg = ", conversion_value: {distribution: lognormal, mean: 40, sigma: 0.8}";
  const std::string exp =
      "  - {name: e, arms: [control, treat], split: opportunity,\n"
      "     analyses: [{type: ab_test, params: {metric: value_per_request, mde: 0.3, min_trials: 20000}}]}\n";
  const Results r = RunScenario(test::Parse(AbScenario(exp, "", seg + ", creatives: {treat/x: {cvr: 0.08}}", "4d")));
  const int row = FindRow(r, "experiment_looks", "decision", "ship");
  ASSERT_GE(row, 0);
  EXPECT_EQ(Col<std::string>(r, "experiment_looks", "metric")[row], "value_per_request");
  EXPECT_GT(Col<double>(r, "experiment_looks", "prob_beat")[row], 0.99);
  // The decision was taken because the Welch z reached the look's boundary.
  EXPECT_GE(Col<double>(r, "experiment_looks", "statistic")[row], Col<double>(r, "experiment_looks", "boundary")[row]);
}

TEST(Experiment, ReviewAndHoldPausesKeepBothArmsRunning) {
  const std::string seg = ", creatives: {treat/x: {ctr: 0.03}}";
  for (const std::string& how :
       {std::string("decision: review}}]}\n"), std::string("decision: act}}]}\nguardrails: {hold_pauses: true}\n")}) {
    const Results r = RunScenario(
        test::Parse(AbScenario("  - {name: e, arms: [control, treat], split: opportunity,\n"
                               "     analyses: [{type: ab_test, params: {metric: ctr, mde: 0.2, baseline_rate: 0.02, " +
                                   how,
                               "", seg)));
    ASSERT_GE(FindRow(r, "experiment_looks", "decision", "ship"), 0) << how;
    const int act = FindRow(r, "actions", "kind", "pause_campaign");
    ASSERT_GE(act, 0) << how;
    EXPECT_EQ(Col<std::string>(r, "actions", "status")[act], "held") << how;
    EXPECT_EQ(Col<int64_t>(r, "experiments", "paused_at_end")[0], 0) << how;
  }
}

TEST(Experiment, GuardrailMetricStopsAnArmThatCostsTooMuch) {
  // Same click rate, but the treatment bids 3x: it wins more and pays more per impression.
  const Results r = RunScenario(test::Parse(AbScenario(
      "  - {name: e, arms: [control, treat], split: opportunity,\n"
      "     analyses: [{type: ab_test, params: {metric: ctr, guardrail_metric: cpm, guardrail_max_increase: 0.2}}]}\n",
      ", bid: 0.012")));
  const int row = FindRow(r, "experiment_looks", "decision", "guardrail_stop");
  ASSERT_GE(row, 0);
  const int act = FindRow(r, "actions", "kind", "pause_campaign");
  ASSERT_GE(act, 0);
  EXPECT_EQ(Col<int64_t>(r, "actions", "campaign")[act], 1);
  EXPECT_EQ(FindRow(r, "experiment_looks", "decision", "ship"), -1);
}

TEST(Experiment, SeveralGuardrailMetricsAreEachChecked) {
  // The treatment bids 3x, so it pays more per impression. Both guardrails are
  // checked every cycle; CPM (100,000 impressions of evidence per arm) fires
  // first, before CPA has 1,000 conversions per arm, and the note names it.
  const Results r = RunScenario(
      test::Parse(AbScenario("  - {name: e, arms: [control, treat], split: opportunity,\n"
                             "     analyses: [{type: ab_test, params: {metric: ctr, guardrail_metric: 'cpa, cpm', "
                             "guardrail_min_conversions: 1000}}]}\n",
                             ", bid: 0.012")));
  const int row = FindRow(r, "experiment_looks", "decision", "guardrail_stop");
  ASSERT_GE(row, 0);
  EXPECT_EQ(Col<std::string>(r, "experiment_looks", "note")[row].rfind("cpm ", 0), 0u)
      << Col<std::string>(r, "experiment_looks", "note")[row];
  try {
    RunScenario(
        test::Parse(AbScenario("  - {name: e, arms: [control, treat], analyses: [{type: ab_test, params: "
                               "{guardrail_metric: 'cpm, roas'}}]}\n")));
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_FALSE(e.issues().empty());
    EXPECT_EQ(e.issues()[0].path, "experiments[0].analyses[0].params.guardrail_metric");
  }
}

TEST(Experiment, GroupSequentialLooksUseTheSpendingBoundariesAtTheObservedInformation) {
  const Results r = RunScenario(
      test::Parse(AbScenario("  - {name: e, arms: [control, treat], split: opportunity,\n"
                             "     analyses: [{type: ab_test, params: {metric: ctr, method: ld_obf, decision: observe, "
                             "baseline_rate: 0.02}}]}\n",
                             "", "", "4d")));
  const auto& look = Col<int64_t>(r, "experiment_looks", "look");
  const auto& info = Col<double>(r, "experiment_looks", "information");
  const auto& bound = Col<double>(r, "experiment_looks", "boundary");
  ASSERT_EQ(look.size(), 5u);
  for (size_t k = 0; k < look.size(); ++k) {
    EXPECT_EQ(look[k], static_cast<int64_t>(k + 1));
    EXPECT_GE(info[k], (k + 1) / 5.0);
    EXPECT_LT(info[k], (k + 1) / 5.0 + 0.05);  // one 15-minute cycle of traffic past the planned fraction
    if (k > 0) {
      EXPECT_LT(bound[k], bound[k - 1]);
    }
  }
  // Near the published 4.877, 3.357, 2.680, 2.290, 2.031 for equal spacing.
  EXPECT_NEAR(bound[0], 4.877, 0.15);
  EXPECT_NEAR(bound[4], 2.031, 0.03);
}

TEST(ExperimentErrors, EveryProblemNamesItsField) {
  auto issues =
      test::IssuesOf(AbScenario("  - {name: e, arms: [control, nobody], weights: [1, 2, 3], split: sometimes}\n"));
  auto has = [&](const std::string& path) {
    for (const auto& i : issues)
      if (i.path == path) return true;
    return false;
  };
  EXPECT_TRUE(has("experiments[0].arms[1]"));
  EXPECT_TRUE(has("experiments[0].weights"));
  EXPECT_TRUE(has("experiments[0].split"));
  issues = test::IssuesOf(AbScenario("  - {name: e, arms: [control]}\n  - {name: f, arms: [treat, control]}\n"));
  EXPECT_TRUE(has("experiments[0].arms"));
  EXPECT_TRUE(has("experiments[1].arms[1]"));  // control is already an arm of e
  // Arms must target the same channels and segments (campaign two buys search only).
  issues = test::IssuesOf(test::SmallScenario("experiments: [{name: e, arms: [one, two]}]\n"));
  EXPECT_TRUE(has("experiments[0].arms[1]"));
  try {
    RunScenario(test::Parse(AbScenario("  - {name: e, arms: [control, treat], analyses: [{type: ab_tset}]}\n")));
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    ASSERT_FALSE(e.issues().empty());
    EXPECT_EQ(e.issues()[0].path, "experiments[0].analyses[0].type");
    EXPECT_NE(e.issues()[0].expected.find("ab_test"), std::string::npos);
  }
}

}  // namespace
}  // namespace adsim

namespace adsim {
namespace {

std::string OracleScenarioText() {
  return "name: or\nseed: 5\nstart: '2026-03-02T00:00:00'\nduration: 2d\noracle: true\n"
         "channels:\n"
         "  - {name: display, auction: second_price, traffic: {per_hour: 20000},\n"
         "     competition: {competitors: 5, median: 0.002, sigma: 0.6}}\n"
         "segments:\n"
         "  - {name: a, users: 30000, ctr: 0.02, cvr: 0.05, conversion_value: 40,\n"
         "     conversion_delay: {distribution: exponential, mean: 1h}}\n"
         "  - {name: b, users: 30000, ctr: 0.005, cvr: 0.02, conversion_value: 40}\n"
         "campaigns:\n"
         "  - {name: fixed_low, bid: 0.002, budget: {daily: 100}}\n"
         "  - {name: value, bid: 0.002, budget: {daily: 100}, bidder: value_linear, controllers: [pid_pacing]}\n";
}

TEST(Oracle, RegretIsRecordedPerCampaignAgainstABidderThatKnowsTheTruth) {
  const Scenario sc = test::Parse(OracleScenarioText());
  const Results r = RunScenario(sc);
  const auto& on = Col<double>(r, "oracle", "oracle_conversions");
  const auto& os = Col<double>(r, "oracle", "oracle_spend");
  const auto& rn = Col<double>(r, "oracle", "regret_conversions");
  const auto& an = Col<double>(r, "campaign_truth", "conversions");
  ASSERT_EQ(on.size(), 2u);
  for (size_t c = 0; c < 2; ++c) {
    EXPECT_DOUBLE_EQ(rn[c], on[c] - an[c]);
    EXPECT_LE(os[c], 200.0 + 1e-9);  // the same budgets: 2 days x 100
    EXPECT_GT(os[c], 0.9 * 200.0);   // and the oracle's pacing spends them
  }
  // A fixed bid far below the value of an impression loses most of what the
  // oracle gets (Poisson SE of the oracle's count ~ sqrt(on)); the paced value
  // bidder, which learns the rates, loses much less.
  EXPECT_GT(rn[0], 5 * std::sqrt(on[0]));
  EXPECT_LT(rn[1], rn[0] / 4);
  // The run itself is unchanged by also running the oracle.
  Scenario plain = sc;
  plain.oracle = false;
  const Results p = RunScenario(plain);
  EXPECT_EQ(Col<int64_t>(p, "aggregates", "clicks"), Col<int64_t>(r, "aggregates", "clicks"));
  EXPECT_EQ(p.Find("oracle"), nullptr);
  EXPECT_EQ(RunScenario(sc).text_attrs.at("oracle_fingerprint"), r.text_attrs.at("oracle_fingerprint"));
}

TEST(Oracle, OtherControllersCannotChangeTheOraclesCampaign) {
  const Scenario sc = test::Parse(OracleScenarioText());
  const Scenario o = OracleScenario(sc, 0);
  EXPECT_EQ(o.campaigns[0].bidder.type, "fixed");
  ASSERT_EQ(o.campaigns[0].controllers.size(), 1u);
  EXPECT_EQ(o.campaigns[0].controllers[0].label, "oracle_pacing");
  EXPECT_EQ(o.campaigns[1].bidder.type, "value_linear");  // competitors as configured
  RunOptions opt;
  opt.oracle_campaign = 1;
  Scenario s2 = o;
  s2.controllers.push_back(ComponentSpec{"budget_reallocation", {}, ""});
  s2.controllers.back().where = "controllers[0]";
  const Results r = RunScenario(s2, opt);
  const auto& camp = Col<int64_t>(r, "actions", "campaign");
  const auto& ctl = Col<std::string>(r, "actions", "controller");
  const auto& st = Col<std::string>(r, "actions", "status");
  for (size_t i = 0; i < camp.size(); ++i)
    if (camp[i] == 1 && ctl[i] != "oracle_pacing") {
      EXPECT_EQ(st[i], "rejected") << ctl[i];
    }
}

}  // namespace
}  // namespace adsim

namespace adsim {
namespace {

// A 2x2 factorial: factor A (bit 0) is a creative with a 40% higher click
// rate, factor B (bit 1) a creative that differs in name only.
TEST(FactorialExperiment, FindsTheMainEffectThatExistsAndNotTheOthers) {
  std::string text =
      "name: fx\nseed: 8\nstart: '2026-03-02T00:00:00'\nduration: 2d\ncontrol_cycle: 15m\n"
      "channels:\n"
      "  - {name: display, auction: second_price, traffic: {per_hour: 40000},\n"
      "     competition: {competitors: 5, median: 0.002, sigma: 0.6}}\n"
      "segments:\n"
      "  - {name: a, users: 100000, ctr: 0.02, cvr: 0.05,\n"
      "     creatives: {a_hi/x: {ctr: 0.028}, a_hi_b_hi/x: {ctr: 0.028}}}\n"
      "campaigns:\n"
      "  - {name: base, bid: 0.004, creatives: [x]}\n"
      "  - {name: a_hi, bid: 0.004, creatives: [x]}\n"
      "  - {name: b_hi, bid: 0.004, creatives: [x]}\n"
      "  - {name: a_hi_b_hi, bid: 0.004, creatives: [x]}\n"
      "experiments:\n"
      "  - {name: fx, arms: [base, a_hi, b_hi, a_hi_b_hi], split: opportunity,\n"
      "     analyses: [factorial_test]}\n";
  const Results r = RunScenario(test::Parse(text));
  const auto& arm = Col<int64_t>(r, "experiment_looks", "arm");
  const auto& dec = Col<std::string>(r, "experiment_looks", "decision");
  const auto& z = Col<double>(r, "experiment_looks", "statistic");
  ASSERT_EQ(arm.size(), 3u);  // A, B, A:B
  std::map<int64_t, std::string> by_mask;
  for (size_t i = 0; i < arm.size(); ++i) by_mask[arm[i]] = dec[i];
  EXPECT_EQ(by_mask[1], "significant");
  EXPECT_GT(z[0], 0);
  EXPECT_EQ(by_mask[2], "not_significant");
  EXPECT_EQ(by_mask[3], "not_significant");
  // Three arms are not a 2^k design.
  text.replace(text.find("arms: [base, a_hi, b_hi, a_hi_b_hi]"), 35, "arms: [base, a_hi, b_hi]");
  EXPECT_THROW(RunScenario(test::Parse(text)), ConfigError);
}

}  // namespace
}  // namespace adsim
