// RunOptions::oracle_all_multiplier (core/run_options.h), the bench-facing
// reference of bench/oracle_bound.py: off by default, every campaign bids
// multiplier x the true conversion probability of the opportunity, and of our
// campaigns only the highest score bids. Observed through a first-price
// auction, where the price of a win is the bid itself.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "core/run_options.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;
using test::Parse;

// One first-price display channel, one segment with per-user click
// propensity, two campaigns without budgets bidding fixed 0.003 and 0.002,
// every opportunity recorded. No creative fatigue: a creative's click rate
// does not depend on how many impressions the run won, so the same
// opportunity has the same true probability in runs with different bids.
std::string FirstPriceScenario() {
  return "name: oracle_all\nseed: 11\nstart: '2026-03-02T00:00:00'\nduration: 4h\n"
         "bucket: 1h\ncontrol_cycle: 1h\nrecording: {events: true}\n"
         "channels:\n"
         "  - name: display\n    auction: first_price\n    floor: 0.00001\n"
         "    traffic: {per_hour: 4000}\n"
         "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
         "segments:\n"
         "  - {name: a, users: 2000, propensity_sigma: 0.5, ctr: 0.02, cvr: 0.2, "
         "conversion_delay: {distribution: exponential, mean: 2h}}\n"
         "campaigns:\n"
         "  - {name: one, bid: 0.003}\n"
         "  - {name: two, bid: 0.002}\n";
}

Results RunWith(double multiplier, bool cell_truth = false) {
  RunOptions options;
  options.oracle_all_multiplier = multiplier;
  options.oracle_all_cell_truth = cell_truth;
  return RunScenario(Parse(FirstPriceScenario()), options);
}

// (time, user) -> price of the opportunities our campaigns won.
std::map<std::pair<int64_t, int64_t>, double> WonPrices(const Results& r) {
  const auto& time = Col<int64_t>(r, "events", "time");
  const auto& user = Col<int64_t>(r, "events", "user");
  const auto& winner = Col<int64_t>(r, "events", "winner");
  const auto& price = Col<double>(r, "events", "price");
  std::map<std::pair<int64_t, int64_t>, double> out;
  for (size_t i = 0; i < time.size(); ++i)
    if (winner[i] >= 0) out[{time[i], user[i]}] = price[i];
  return out;
}

TEST(OracleAll, OffByDefault) {
  const RunOptions defaults;
  EXPECT_EQ(defaults.oracle_all_multiplier, 0.0);
  EXPECT_FALSE(defaults.oracle_all_cell_truth);
  // Off, both campaigns bid their fixed bids: every first-price win costs
  // 0.003 (campaign one, the higher bid, wins whenever either of ours would)
  // and both of ours bid in every auction.
  const Results r = RunScenario(Parse(FirstPriceScenario()));
  const auto& winner = Col<int64_t>(r, "events", "winner");
  const auto& bidders = Col<int64_t>(r, "events", "bidders");
  const auto& price = Col<double>(r, "events", "price");
  int wins = 0;
  for (size_t i = 0; i < winner.size(); ++i) {
    EXPECT_EQ(bidders[i], 2);
    if (winner[i] < 0) continue;
    ++wins;
    EXPECT_EQ(winner[i], 0);
    EXPECT_DOUBLE_EQ(price[i], 0.003);
  }
  EXPECT_GT(wins, 100);
  // An explicit 0 is the same run as the defaults, bit for bit.
  EXPECT_EQ(RunWith(0.0).text_attrs.at("fingerprint"), r.text_attrs.at("fingerprint"));
}

TEST(OracleAll, BidsTheMultiplierTimesTheTrueConversionProbability) {
  // Bid per impression = multiplier x ctr x propensity x cvr = m x 0.02 x
  // propensity x 0.2 (one creative, click factor 1, no shock, no user
  // features), rounded down to whole micros; first price: the price is the bid.
  const double multiplier = 4.0;
  const Results r = RunWith(multiplier);
  const auto& winner = Col<int64_t>(r, "events", "winner");
  const auto& bidders = Col<int64_t>(r, "events", "bidders");
  const auto& price = Col<double>(r, "events", "price");
  const auto& propensity = Col<double>(r, "events", "propensity");
  int wins = 0;
  for (size_t i = 0; i < winner.size(); ++i) {
    // Both campaigns see the same probability (same segment, one creative
    // each): the first keeps the auction, the second may not outbid it.
    EXPECT_EQ(bidders[i], 1);
    if (winner[i] < 0) continue;
    ++wins;
    EXPECT_EQ(winner[i], 0);
    const double expected = multiplier * 0.02 * propensity[i] * 0.2;
    EXPECT_NEAR(price[i], expected, 1e-6) << "row " << i;
  }
  EXPECT_GT(wins, 100);
}

TEST(OracleAll, TwiceTheMultiplierDoublesEveryBid) {
  // Common random numbers: the same opportunities (time, user) in both runs;
  // without budgets or fatigue, the bid on each is m x p with the same p, so
  // a win at m is a win at 2m (first price, same competing bids) at twice
  // the price, up to the rounding of each bid down to whole micros.
  const auto once = WonPrices(RunWith(3.0));
  const auto twice = WonPrices(RunWith(6.0));
  ASSERT_GT(once.size(), 100u);
  EXPECT_GT(twice.size(), once.size());
  for (const auto& [key, price] : once) {
    const auto it = twice.find(key);
    ASSERT_NE(it, twice.end()) << "won at m, lost at 2m: time " << key.first;
    EXPECT_NEAR(it->second, 2 * price, 2e-6);
  }
}

TEST(OracleAll, CellTruthIgnoresTheUsersPropensity) {
  // Cell truth only: every bid is m x 0.02 x 0.2, whatever the user's propensity.
  const double multiplier = 4.0;
  const Results r = RunWith(multiplier, /*cell_truth=*/true);
  const auto& winner = Col<int64_t>(r, "events", "winner");
  const auto& price = Col<double>(r, "events", "price");
  int wins = 0;
  for (size_t i = 0; i < winner.size(); ++i) {
    if (winner[i] < 0) continue;
    ++wins;
    EXPECT_NEAR(price[i], multiplier * 0.02 * 0.2, 1e-6);
  }
  EXPECT_GT(wins, 100);
}

}  // namespace
}  // namespace adsim
