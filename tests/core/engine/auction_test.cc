// Auction mechanisms against theory. Tolerances are 4 standard errors of the
// Monte Carlo estimate, with fixed seeds.
#include "core/engine/auction.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/engine.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

struct Outcome {
  int won;
  SlotWin wins[kMaxSlots];
};

Outcome Auction(AuctionType type, int slots, double floor, std::vector<double> competing, std::vector<double> ours) {
  std::vector<Candidate> cands, work(ours.size() + competing.size());
  for (size_t i = 0; i < ours.size(); ++i) cands.push_back({ours[i], static_cast<int>(i)});
  Outcome o{};
  o.won = RunAuction(type, slots, floor, competing.data(), static_cast<int>(competing.size()), cands.data(),
                     static_cast<int>(cands.size()), work.data(), o.wins);
  return o;
}

TEST(SecondPrice, RevenueWithNUniformBiddersIsNMinus1OverNPlus1) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0, 1);
  for (int n : {2, 3, 5, 10}) {
    const int trials = 200000;
    double sum = 0;
    std::vector<double> bids(n);
    for (int t = 0; t < trials; ++t) {
      for (auto& b : bids) b = u(rng);
      const Outcome o = Auction(AuctionType::kSecondPrice, 1, 0.0, {}, bids);
      ASSERT_EQ(o.won, 1);
      sum += o.wins[0].price_score;
    }
    // n iid U[0,1], second price: revenue = 2nd highest ~ Beta(n-1, 2),
    // E = (n-1)/(n+1), Var = 2(n-1) / ((n+1)^2 (n+2)).
    const double expected = (n - 1.0) / (n + 1.0);
    const double se = std::sqrt(2.0 * (n - 1) / ((n + 1.0) * (n + 1.0) * (n + 2.0)) / trials);
    EXPECT_NEAR(sum / trials, expected, 4 * se) << "n=" << n;
  }
}

TEST(FirstPrice, EquilibriumBidIsNMinus1OverNOfValue) {
  // n bidders with values iid U[0,1]. If the others bid (n-1)/n of their value,
  // a bidder with value v maximises (v - b) P(win | b) at b = (n-1)/n v, and
  // revenue equals the second-price revenue (n-1)/(n+1) (revenue equivalence).
  const int n = 3, trials = 300000;
  const double v = 0.7, eq = (n - 1.0) / n * v;
  const std::vector<double> grid = {eq - 0.15, eq - 0.08, eq, eq + 0.08, eq + 0.15};
  std::vector<double> utility(grid.size(), 0.0), utility_sq(grid.size(), 0.0);
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<double> u(0, 1);
  double revenue = 0, revenue_sq = 0;
  for (int t = 0; t < trials; ++t) {
    std::vector<double> bids(n);
    for (int i = 1; i < n; ++i) bids[i] = (n - 1.0) / n * u(rng);
    // Common random numbers: every candidate bid meets the same opponents.
    for (size_t g = 0; g < grid.size(); ++g) {
      bids[0] = grid[g];
      const Outcome o = Auction(AuctionType::kFirstPrice, 1, 0.0, {}, bids);
      const double x = (o.won == 1 && o.wins[0].bidder == 0) ? v - o.wins[0].price_score : 0.0;
      utility[g] += x;
    }
    bids[0] = (n - 1.0) / n * u(rng);
    const Outcome o = Auction(AuctionType::kFirstPrice, 1, 0.0, {}, bids);
    EXPECT_DOUBLE_EQ(o.wins[0].price_score, *std::max_element(bids.begin(), bids.end()));  // pays its own bid
    revenue += o.wins[0].price_score;
    revenue_sq += o.wins[0].price_score * o.wins[0].price_score;
  }
  // Analytic utilities: (v - b) (b n/(n-1))^(n-1); the equilibrium bid is the best of the grid.
  for (size_t g = 0; g < grid.size(); ++g) {
    const double b = grid[g];
    const double analytic = (v - b) * std::pow(std::min(1.0, b * n / (n - 1.0)), n - 1);
    // Var(x) <= (v-b)^2 p (1-p) <= 0.25 (v-b)^2.
    EXPECT_NEAR(utility[g] / trials, analytic, 4 * 0.5 * std::fabs(v - b) / std::sqrt(trials)) << "b=" << b;
    if (g != 2) {
      EXPECT_GT(utility[2], utility[g]) << "b=" << b;
    }
  }
  const double mean = revenue / trials, var = revenue_sq / trials - mean * mean;
  EXPECT_NEAR(mean, (n - 1.0) / (n + 1.0), 4 * std::sqrt(var / trials));
}

TEST(Gsp, HandWorkedPricesPerSlot) {
  // Ours 4, 3, 2, 1 and a competitor at 2.5, three slots, no floor.
  // Ranking: 4 (ours 0), 3 (ours 1), 2.5 (competitor), 2, 1.
  // Slot 1 pays the next score 3, slot 2 pays 2.5, slot 3 goes to the competitor.
  Outcome o = Auction(AuctionType::kGsp, 3, 0.0, {2.5}, {4, 3, 2, 1});
  ASSERT_EQ(o.won, 2);
  EXPECT_EQ(o.wins[0].bidder, 0);
  EXPECT_EQ(o.wins[0].slot, 0);
  EXPECT_DOUBLE_EQ(o.wins[0].price_score, 3.0);
  EXPECT_EQ(o.wins[1].bidder, 1);
  EXPECT_EQ(o.wins[1].slot, 1);
  EXPECT_DOUBLE_EQ(o.wins[1].price_score, 2.5);
  // With a floor of 1.5: 1 is out; ours 4, 3, 2 fill the slots at 3, 2 and the floor.
  o = Auction(AuctionType::kGsp, 3, 1.5, {}, {4, 3, 2, 1});
  ASSERT_EQ(o.won, 3);
  EXPECT_DOUBLE_EQ(o.wins[0].price_score, 3.0);
  EXPECT_DOUBLE_EQ(o.wins[1].price_score, 2.0);
  EXPECT_DOUBLE_EQ(o.wins[2].price_score, 1.5);
  EXPECT_EQ(o.wins[2].bidder, 2);
}

TEST(Auctions, SingleSlotFastPathRanksAndPricesLikeTheSortedPath) {
  // Scores on a coarse grid so that ties are frequent.
  std::mt19937_64 rng(3);
  for (int t = 0; t < 20000; ++t) {
    const int n = 1 + static_cast<int>(rng() % 5), k = static_cast<int>(rng() % 3);
    std::vector<Candidate> ours(n), work(n + k);
    std::vector<double> comp(k);
    for (int i = 0; i < n; ++i) ours[i] = {static_cast<double>(rng() % 6) / 4, static_cast<int>(i)};
    for (auto& c : comp) c = static_cast<double>(rng() % 6) / 4;
    const double floor = static_cast<double>(rng() % 3) / 4;
    for (AuctionType type : {AuctionType::kSecondPrice, AuctionType::kFirstPrice}) {
      SlotWin fast[kMaxSlots], sorted[kMaxSlots];
      const int a = RunAuction(type, 1, floor, comp.data(), k, ours.data(), n, work.data(), fast);
      const int b = RunAuctionSorted(type, 1, floor, comp.data(), k, ours.data(), n, work.data(), sorted);
      ASSERT_EQ(a, b);
      if (a == 1) {
        ASSERT_EQ(fast[0].bidder, sorted[0].bidder);
        ASSERT_EQ(fast[0].price_score, sorted[0].price_score);
      }
      // ours is in increasing bidder index, as the run loop's one-slot path needs.
      SlotWin in_order[kMaxSlots];
      const int c = RunOneSlotAuctionInOrder(type, floor, comp.data(), k, ours.data(), n, in_order);
      ASSERT_EQ(c, b);
      if (c == 1) {
        ASSERT_EQ(in_order[0].bidder, sorted[0].bidder);
        ASSERT_EQ(in_order[0].price_score, sorted[0].price_score);
        ASSERT_EQ(in_order[0].slot, 0);
      }
    }
  }
}

TEST(Auctions, FloorTiesAndNoBidders) {
  // Below the floor nobody wins; a lone bidder above it pays the floor.
  EXPECT_EQ(Auction(AuctionType::kSecondPrice, 1, 1.0, {0.5}, {0.9}).won, 0);
  Outcome o = Auction(AuctionType::kSecondPrice, 1, 1.0, {0.5}, {1.2});
  ASSERT_EQ(o.won, 1);
  EXPECT_DOUBLE_EQ(o.wins[0].price_score, 1.0);
  // A tie with a competitor goes to the competitor; among ours, to the lower index.
  EXPECT_EQ(Auction(AuctionType::kSecondPrice, 1, 0.0, {2.0}, {2.0}).won, 0);
  o = Auction(AuctionType::kSecondPrice, 1, 0.0, {}, {2.0, 2.0});
  EXPECT_EQ(o.wins[0].bidder, 0);
  EXPECT_DOUBLE_EQ(o.wins[0].price_score, 2.0);
  EXPECT_EQ(Auction(AuctionType::kFirstPrice, 1, 0.0, {}, {}).won, 0);
}

TEST(Auctions, ClickBillingChargesOnlyClicksAndAtMostTheBid) {
  // In the small scenario, channel 1 (search) is click-billed GSP; campaign
  // "two" bids 0.5 per click there: spend <= 0.5 x clicks, and no click no charge.
  const Results r = RunScenario(test::Parse(test::SmallScenario("", "", "1d", 40000)));
  const auto& camp = test::Col<int64_t>(r, "aggregates", "campaign");
  const auto& chan = test::Col<int64_t>(r, "aggregates", "channel");
  const auto& clicks = test::Col<int64_t>(r, "aggregates", "clicks");
  const auto& wins = test::Col<int64_t>(r, "aggregates", "wins");
  const auto& spend = test::Col<double>(r, "aggregates", "spend");
  int64_t total_clicks = 0, total_wins = 0;
  for (size_t i = 0; i < camp.size(); ++i) {
    if (chan[i] != 1 || camp[i] != 1) continue;
    total_clicks += clicks[i];
    total_wins += wins[i];
    EXPECT_LE(spend[i], 0.5 * static_cast<double>(clicks[i]) + 1e-9);
    if (clicks[i] == 0) {
      EXPECT_EQ(spend[i], 0.0);
    }
  }
  EXPECT_GT(total_clicks, 20);
  EXPECT_GT(total_wins, total_clicks);  // impressions without clicks were free
}

}  // namespace
}  // namespace adsim
