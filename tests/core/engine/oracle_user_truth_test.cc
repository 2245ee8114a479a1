// RunOptions::oracle_user_truth (core/run_options.h), the bench-facing switch
// of bench/oracle_gap.py's rung "+ known fatigue": off (false), the
// per-campaign oracle bids on the true cell rates and the creative's fatigue
// at that moment, without the user's own click propensity and conversion
// shift; on (the default), the oracle is unchanged. Observed through a
// first-price auction, where the price of a win is the bid itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/run_options.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;
using test::Parse;

constexpr double kCpa = 1.0, kCtr = 0.02, kCvr = 0.2;  // the oracle's bid before propensity and fatigue
constexpr double kHalfLife = 3000;                     // impressions

// One first-price display channel, one segment with per-user click
// propensity and creative fatigue without recovery (after k impressions the
// creative's click rate is 2^(-k / half_life) times the cell's), one
// campaign with a CPA goal, no budget and one creative, every opportunity
// recorded. With `users`, public features shift each user's conversion rate.
std::string ScenarioText(bool users) {
  std::string text =
      "name: oracle_user_truth\nseed: 17\nstart: '2026-03-02T00:00:00'\nduration: 4h\n"
      "bucket: 1h\ncontrol_cycle: 1h\nrecording: {events: true}\n"
      "channels:\n"
      "  - name: display\n    auction: first_price\n    floor: 0.00001\n"
      "    traffic: {per_hour: 4000}\n"
      "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
      "segments:\n"
      "  - {name: a, users: 2000, propensity_sigma: 0.5, ctr: " +
      test::Num(kCtr) + ", cvr: " + test::Num(kCvr) + ", fatigue: {half_life: " + test::Num(kHalfLife) +
      "}, conversion_delay: {distribution: exponential, mean: 2h}}\n"
      "campaigns:\n"
      "  - {name: one, bid: 0.003, goal: {cpa: " +
      test::Num(kCpa) + "}}\n";
  if (users)
    text +=
        "users:\n  features: {count: 3, distribution: normal}\n"
        "  conversion: {coefficients: [0.8, -0.5, 0.0]}\n";
  return text;
}

// The run with campaign 0 as the oracle (as `oracle: true` runs it).
Results OracleRun(bool users, bool user_truth) {
  RunOptions options;
  options.oracle_campaign = 0;
  options.oracle_user_truth = user_truth;
  return RunScenario(Parse(ScenarioText(users)), options);
}

struct Win {
  double price = 0;       // = the bid (first price), rounded down to whole micros
  double propensity = 0;  // the user's click propensity
  double fatigue = 0;     // 2^(-impressions before this one / half_life)
};

std::vector<Win> Wins(const Results& r) {
  const auto& winner = Col<int64_t>(r, "events", "winner");
  const auto& price = Col<double>(r, "events", "price");
  const auto& propensity = Col<double>(r, "events", "propensity");
  std::vector<Win> wins;
  for (size_t i = 0; i < winner.size(); ++i)
    if (winner[i] >= 0) {
      EXPECT_EQ(winner[i], 0);
      wins.push_back({price[i], propensity[i], std::exp2(-static_cast<double>(wins.size()) / kHalfLife)});
    }
  return wins;
}

TEST(OracleUserTruth, OnByDefaultAndNoEffectWithoutAnOracle) {
  const RunOptions defaults;
  EXPECT_TRUE(defaults.oracle_user_truth);
  // A run without an oracle does not read it: the same run bit for bit.
  RunOptions off;
  off.oracle_user_truth = false;
  const Scenario sc = Parse(ScenarioText(/*users=*/true));
  EXPECT_EQ(RunScenario(sc, off).text_attrs.at("fingerprint"), RunScenario(sc).text_attrs.at("fingerprint"));
  // The oracle on: explicitly true is the default, bit for bit.
  RunOptions on;
  on.oracle_campaign = 0;
  RunOptions explicit_on = on;
  explicit_on.oracle_user_truth = true;
  EXPECT_EQ(RunScenario(sc, on).text_attrs.at("fingerprint"),
            RunScenario(sc, explicit_on).text_attrs.at("fingerprint"));
}

TEST(OracleUserTruth, WithItTheOracleBidsOnThePropensityAndFatigueAsBefore) {
  // Unchanged oracle (no users block, so no conversion shift): bid = cpa x
  // cvr x ctr x propensity x fatigue factor.
  const std::vector<Win> wins = Wins(OracleRun(/*users=*/false, /*user_truth=*/true));
  ASSERT_GT(wins.size(), 1000u);
  for (size_t k = 0; k < wins.size(); ++k)
    EXPECT_NEAR(wins[k].price, kCpa * kCvr * kCtr * wins[k].propensity * wins[k].fatigue, 1e-6) << "win " << k;
}

TEST(OracleUserTruth, WithoutItTheBidIgnoresTheUserButFollowsFatigue) {
  // With the users' conversion shift too: the bid is cpa x cvr x ctr x the
  // fatigue factor, whatever the user's propensity and features.
  const std::vector<Win> wins = Wins(OracleRun(/*users=*/true, /*user_truth=*/false));
  ASSERT_GT(wins.size(), 1000u);
  for (size_t k = 0; k < wins.size(); ++k)
    EXPECT_NEAR(wins[k].price, kCpa * kCvr * kCtr * wins[k].fatigue, 1e-6) << "win " << k;
  // Users of very different propensity won: the same bid at the same
  // fatigue, so two consecutive wins by a low- and a high-propensity user
  // cost the same up to one impression's fatigue step (2^(-1/3000)) and the
  // rounding to micros.
  int pairs = 0;
  for (size_t k = 1; k < wins.size(); ++k) {
    const double low = std::min(wins[k].propensity, wins[k - 1].propensity);
    const double high = std::max(wins[k].propensity, wins[k - 1].propensity);
    if (high < 2 * low) continue;
    ++pairs;
    EXPECT_NEAR(wins[k].price, wins[k - 1].price * std::exp2(-1.0 / kHalfLife), 2e-6) << "win " << k;
  }
  EXPECT_GT(pairs, 50);
  // And the bid still moves with fatigue: the last win's bid is the first's
  // times 2^(-wins / half_life), well below it here (the falling bid wins less often).
  EXPECT_LT(wins.back().price, 0.75 * wins.front().price);
  EXPECT_NEAR(wins.back().price / wins.front().price, wins.back().fatigue, 1e-3);
}

TEST(OracleUserTruth, WithItTheOracleKnowsTheUsersConversionShift) {
  // With users' features shifting the conversion rate, the unchanged oracle's
  // bid / (cpa x cvr x ctr x propensity x fatigue) is the user's own
  // conversion rate over the cell's, which differs between users (logit
  // shifts with standard deviation sqrt(0.8^2 + 0.5^2) ~ 0.94); without
  // user truth the same ratio / propensity is 1 for every user.
  const std::vector<Win> with = Wins(OracleRun(/*users=*/true, /*user_truth=*/true));
  ASSERT_GT(with.size(), 1000u);
  double lowest = 1e300, highest = 0;
  for (const Win& win : with) {
    const double ratio = win.price / (kCpa * kCvr * kCtr * win.propensity * win.fatigue);
    lowest = std::min(lowest, ratio);
    highest = std::max(highest, ratio);
  }
  EXPECT_LT(lowest, 0.7);
  EXPECT_GT(highest, 1.4);
}

TEST(OracleUserTruth, TheOracleTableFollowsItTheRunDoesNot) {
  // `oracle: true`: the oracle runs inherit the option; the run itself is the same.
  Scenario sc = Parse(ScenarioText(/*users=*/true));
  sc.oracle = true;
  RunOptions off;
  off.oracle_user_truth = false;
  const Results with = RunScenario(sc), without = RunScenario(sc, off);
  EXPECT_EQ(Col<double>(with, "campaign_truth", "conversions"), Col<double>(without, "campaign_truth", "conversions"));
  EXPECT_EQ(Col<double>(with, "campaign_truth", "spend"), Col<double>(without, "campaign_truth", "spend"));
  EXPECT_NE(with.text_attrs.at("oracle_fingerprint"), without.text_attrs.at("oracle_fingerprint"));
  EXPECT_NE(Col<double>(with, "oracle", "oracle_spend"), Col<double>(without, "oracle", "oracle_spend"));
}

}  // namespace
}  // namespace adsim
