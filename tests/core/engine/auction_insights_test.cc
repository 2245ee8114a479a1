// The auction_insights table (core/engine/auction_insights.h) against
// hand-worked auctions, and its identities on a real run.
#include "core/engine/auction_insights.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iterator>
#include <map>
#include <string>
#include <utility>

#include "core/engine.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;

// Competitors bid exactly their median (sigma 0) and our campaigns bid fixed
// amounts, so every auction of a channel has the same ranking and the
// outcomes can be worked out by hand. Impression billing everywhere.
//
// search (GSP, 3 slots, top of page = the first 2 slots): one competitor at
// 0.004; high 0.006 > competitor 0.004 > middle 0.0035 > low 0.002.
//  - high: slot 1 of every auction, a competitor shown below it.
//  - middle: slot 3, the competitor above it, priced at low's 0.002 (GSP:
//    the next score below). Its daily budget 1.0005 pays 500 impressions
//    (500 x 0.002 = 1.000); then 0.0005 is left, its bid is cut to 0.0005,
//    below the floor 0.001: every later opportunity is lost to budget.
//  - low: outranked (4th) while middle bids: 500 losses to rank; then slot 3.
// display (second price, one slot): three competitors at 0.004.
//  - display_high 0.005 wins at 0.004; its budget 0.41 pays 102 impressions
//    (102 x 0.004 = 0.408), then its bid is cut to 0.002 and loses: a budget loss.
//  - low 0.002 never wins: every eligible opportunity is lost to rank.
const char* kHandWorked = R"(name: insights
seed: 3
start: '2026-03-02T00:00:00'
duration: 1d
bucket: 1h
control_cycle: 1h
channels:
  - name: search
    auction: {type: gsp, slots: 3, click_factors: [1.0, 0.6, 0.3]}
    floor: 0.001
    traffic: {per_hour: 200}
    competition: {competitors: 1, median: 0.004, sigma: 0}
  - name: display
    auction: second_price
    floor: 0.001
    traffic: {per_hour: 100}
    competition: {competitors: 3, median: 0.004, sigma: 0}
segments:
  - {name: s, users: 1000, ctr: 0.01, cvr: 0.1}
campaigns:
  - {name: high, channels: [search], bid: 0.006}
  - {name: middle, channels: [search], bid: 0.0035, budget: {daily: 1.0005}}
  - {name: low, channels: [search, display], bid: 0.002}
  - {name: display_high, channels: [display], bid: 0.005, budget: {daily: 0.41}}
)";

struct Row {
  int64_t eligible, impressions, lost_budget, lost_rank, top, absolute_top, overlap, competitor_above;
  double impression_share, lost_is_budget, lost_is_rank, top_rate, absolute_top_rate, average_position, overlap_rate,
      position_above_rate, outranking_share;
};

// The table's rows keyed by (campaign, channel); the scenario runs one day.
std::map<std::pair<int, int>, Row> Rows(const Results& r) {
  const auto& campaign = Col<int64_t>(r, "auction_insights", "campaign");
  const auto& channel = Col<int64_t>(r, "auction_insights", "channel");
  auto i = [&](const char* c) { return Col<int64_t>(r, "auction_insights", c); };
  auto d = [&](const char* c) { return Col<double>(r, "auction_insights", c); };
  std::map<std::pair<int, int>, Row> rows;
  for (size_t k = 0; k < campaign.size(); ++k) {
    rows[{static_cast<int>(campaign[k]), static_cast<int>(channel[k])}] = Row{i("eligible")[k],
                                                                              i("impressions")[k],
                                                                              i("lost_budget")[k],
                                                                              i("lost_rank")[k],
                                                                              i("top_impressions")[k],
                                                                              i("absolute_top_impressions")[k],
                                                                              i("overlap_impressions")[k],
                                                                              i("competitor_above")[k],
                                                                              d("impression_share")[k],
                                                                              d("lost_is_budget")[k],
                                                                              d("lost_is_rank")[k],
                                                                              d("top_rate")[k],
                                                                              d("absolute_top_rate")[k],
                                                                              d("average_position")[k],
                                                                              d("overlap_rate")[k],
                                                                              d("position_above_rate")[k],
                                                                              d("outranking_share")[k]};
  }
  return rows;
}

// Opportunities the market produced on a channel (all eligible for every
// campaign targeting it: one segment, nobody paused).
int64_t MarketOpportunities(const Results& r, int channel) {
  const auto& ch = Col<int64_t>(r, "market", "channel");
  const auto& n = Col<int64_t>(r, "market", "opportunities");
  int64_t total = 0;
  for (size_t k = 0; k < ch.size(); ++k) total += ch[k] == channel ? n[k] : 0;
  return total;
}

TEST(AuctionInsights, HandWorkedAuctions) {
  const Results r = RunScenario(test::Parse(kHandWorked));
  const auto rows = Rows(r);
  // One row per campaign x targeted channel for the one day.
  ASSERT_EQ(rows.size(), 5u);
  const int64_t search = MarketOpportunities(r, 0), display = MarketOpportunities(r, 1);
  ASSERT_GT(search, 600);   // 200 per hour for a day: far more than middle's 500
  ASSERT_GT(display, 200);  // and than display_high's 102

  const Row& high = rows.at({0, 0});
  EXPECT_EQ(high.eligible, search);
  EXPECT_EQ(high.impressions, search);  // first of every ranking
  EXPECT_EQ(high.lost_budget, 0);
  EXPECT_EQ(high.lost_rank, 0);
  EXPECT_DOUBLE_EQ(high.impression_share, 1.0);
  EXPECT_DOUBLE_EQ(high.top_rate, 1.0);           // slot 1 of 3: top of page
  EXPECT_DOUBLE_EQ(high.absolute_top_rate, 1.0);  // and the first slot
  EXPECT_DOUBLE_EQ(high.average_position, 1.0);
  EXPECT_DOUBLE_EQ(high.overlap_rate, 1.0);  // the competitor is shown (slot 2) every time
  EXPECT_DOUBLE_EQ(high.position_above_rate, 0.0);
  EXPECT_DOUBLE_EQ(high.outranking_share, 1.0);

  const Row& middle = rows.at({1, 0});
  EXPECT_EQ(middle.eligible, search);
  EXPECT_EQ(middle.impressions, 500);  // 1.0005 / 0.002, rounded down
  EXPECT_EQ(middle.lost_budget, search - 500);
  EXPECT_EQ(middle.lost_rank, 0);
  EXPECT_DOUBLE_EQ(middle.impression_share, 500.0 / search);
  EXPECT_DOUBLE_EQ(middle.lost_is_budget, (search - 500.0) / search);
  EXPECT_DOUBLE_EQ(middle.lost_is_rank, 0.0);
  EXPECT_EQ(middle.top, 0);  // slot 3: below the top two
  EXPECT_DOUBLE_EQ(middle.top_rate, 0.0);
  EXPECT_DOUBLE_EQ(middle.absolute_top_rate, 0.0);
  EXPECT_DOUBLE_EQ(middle.average_position, 3.0);
  EXPECT_EQ(middle.overlap, 500);
  EXPECT_EQ(middle.competitor_above, 500);  // the competitor in slot 2, above it, every time
  EXPECT_DOUBLE_EQ(middle.position_above_rate, 1.0);
  EXPECT_DOUBLE_EQ(middle.outranking_share, 0.0);

  const Row& low_search = rows.at({2, 0});
  EXPECT_EQ(low_search.eligible, search);
  EXPECT_EQ(low_search.impressions, search - 500);  // slot 3 once middle stopped
  EXPECT_EQ(low_search.lost_rank, 500);             // 4th while middle bid
  EXPECT_EQ(low_search.lost_budget, 0);
  EXPECT_DOUBLE_EQ(low_search.lost_is_rank, 500.0 / search);
  EXPECT_DOUBLE_EQ(low_search.average_position, 3.0);
  EXPECT_DOUBLE_EQ(low_search.position_above_rate, 1.0);
  EXPECT_DOUBLE_EQ(low_search.outranking_share, 0.0);

  const Row& low_display = rows.at({2, 1});
  EXPECT_EQ(low_display.eligible, display);
  EXPECT_EQ(low_display.impressions, 0);
  EXPECT_EQ(low_display.lost_rank, display);
  EXPECT_DOUBLE_EQ(low_display.lost_is_rank, 1.0);
  EXPECT_TRUE(std::isnan(low_display.average_position));  // no impression
  EXPECT_TRUE(std::isnan(low_display.overlap_rate));
  EXPECT_DOUBLE_EQ(low_display.outranking_share, 0.0);

  const Row& display_high = rows.at({3, 1});
  EXPECT_EQ(display_high.eligible, display);
  EXPECT_EQ(display_high.impressions, 102);  // 0.41 / 0.004, rounded down
  EXPECT_EQ(display_high.lost_budget, display - 102);
  EXPECT_EQ(display_high.lost_rank, 0);
  EXPECT_TRUE(std::isnan(display_high.top_rate));  // one slot: no top-of-page rates
  EXPECT_TRUE(std::isnan(display_high.absolute_top_rate));
  EXPECT_DOUBLE_EQ(display_high.average_position, 1.0);
  EXPECT_DOUBLE_EQ(display_high.overlap_rate, 0.0);  // one slot: never shown together
  EXPECT_DOUBLE_EQ(display_high.outranking_share, 102.0 / display);
}

TEST(AuctionInsights, TopOfPageSlots) {
  ChannelSpec channel;
  EXPECT_EQ(engine::TopOfPageSlots(channel), 0);  // second price, one slot
  channel.auction = AuctionType::kGsp;
  channel.slots = 1;
  EXPECT_EQ(engine::TopOfPageSlots(channel), 0);
  channel.slots = 2;
  EXPECT_EQ(engine::TopOfPageSlots(channel), 1);
  channel.slots = 3;
  EXPECT_EQ(engine::TopOfPageSlots(channel), 2);  // the upper half, rounded up
  channel.slots = 8;
  EXPECT_EQ(engine::TopOfPageSlots(channel), 4);
}

// On a real run with budgets, pacing and random competition: the shares
// partition the eligible opportunities, every rate is in [0, 1], and the
// counts agree with the aggregates.
TEST(AuctionInsights, IdentitiesOnARealRun) {
  const Results r = RunScenario(test::Parse(test::SmallScenario("", "", "2d")));
  const auto& campaign = Col<int64_t>(r, "auction_insights", "campaign");
  const auto& channel = Col<int64_t>(r, "auction_insights", "channel");
  const auto& eligible = Col<int64_t>(r, "auction_insights", "eligible");
  const auto& impressions = Col<int64_t>(r, "auction_insights", "impressions");
  const auto& lost_budget = Col<int64_t>(r, "auction_insights", "lost_budget");
  const auto& lost_rank = Col<int64_t>(r, "auction_insights", "lost_rank");
  ASSERT_FALSE(campaign.empty());
  std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>> from_insights, from_aggregates;
  int64_t budget_losses = 0;
  for (size_t k = 0; k < campaign.size(); ++k) {
    EXPECT_GE(lost_budget[k], 0);
    EXPECT_GE(lost_rank[k], 0);
    EXPECT_EQ(impressions[k] + lost_budget[k] + lost_rank[k], eligible[k]);
    budget_losses += lost_budget[k];
    if (eligible[k] > 0) {
      const double sum = Col<double>(r, "auction_insights", "impression_share")[k] +
                         Col<double>(r, "auction_insights", "lost_is_budget")[k] +
                         Col<double>(r, "auction_insights", "lost_is_rank")[k];
      EXPECT_NEAR(sum, 1.0, 1e-12);
    }
    for (const char* rate : {"impression_share", "lost_is_budget", "lost_is_rank", "top_rate", "absolute_top_rate",
                             "overlap_rate", "position_above_rate", "outranking_share"}) {
      const double v = Col<double>(r, "auction_insights", rate)[k];
      if (!std::isnan(v)) {
        EXPECT_GE(v, 0.0) << rate;
        EXPECT_LE(v, 1.0) << rate;
      }
    }
    const double position = Col<double>(r, "auction_insights", "average_position")[k];
    if (impressions[k] > 0) {
      EXPECT_GE(position, 1.0);
      EXPECT_LE(position, channel[k] == 1 ? 3.0 : 1.0);  // search has 3 slots
      // Absolute top is a part of the top of the page.
      EXPECT_LE(Col<int64_t>(r, "auction_insights", "absolute_top_impressions")[k],
                Col<int64_t>(r, "auction_insights", "top_impressions")[k]);
    }
    auto& totals = from_insights[{campaign[k], channel[k]}];
    totals.first += eligible[k];
    totals.second += impressions[k];
  }
  // Campaign two's budgets (15 a day, 100 in all) bind in this scenario.
  EXPECT_GT(budget_losses, 0);
  const auto& a_campaign = Col<int64_t>(r, "aggregates", "campaign");
  const auto& a_channel = Col<int64_t>(r, "aggregates", "channel");
  const auto& a_opportunities = Col<int64_t>(r, "aggregates", "opportunities");
  const auto& a_impressions = Col<int64_t>(r, "aggregates", "impressions");
  for (size_t k = 0; k < a_campaign.size(); ++k) {
    auto& totals = from_aggregates[{a_campaign[k], a_channel[k]}];
    totals.first += a_opportunities[k];
    totals.second += a_impressions[k];
  }
  // Aggregates have no row without activity; the insights have one per day.
  for (auto it = from_insights.begin(); it != from_insights.end();)
    it = it->second == std::pair<int64_t, int64_t>{0, 0} ? from_insights.erase(it) : std::next(it);
  EXPECT_EQ(from_insights, from_aggregates);
}

}  // namespace
}  // namespace adsim
