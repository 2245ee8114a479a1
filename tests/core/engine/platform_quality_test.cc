// The platform's click-rate estimate on click-billed channels learns a
// click-rate shock with a lag (quality_half_life), like a real platform's: a
// shock no advertiser could see yet does not move ranking and prices at once.
#include "core/engine/platform_quality.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;

TEST(PlatformQuality, FollowsAShockWithTheHalfLife) {
  const SimTime h = kMicrosPerHour, t0 = 3 * kMicrosPerHour;
  PlatformQuality q;
  q.Reset(2, {h});
  q.OnLiveChange(t0, {0.5, 1.0});
  // m_hat(t) = m + (1 - m) 2^(-(t - t0) / h): unmoved at t0, halfway at t0 + h.
  EXPECT_DOUBLE_EQ(q.Multiplier(0), 1.0);
  q.Advance(t0 + PlatformQuality::kRefresh - 1);  // held between refreshes
  EXPECT_DOUBLE_EQ(q.Multiplier(0), 1.0);
  q.Advance(t0 + h);
  EXPECT_NEAR(q.Multiplier(0), 0.75, 1e-12);
  EXPECT_DOUBLE_EQ(q.Multiplier(1), 1.0);  // an untouched cell stays
  q.Advance(t0 + 2 * h);
  EXPECT_NEAR(q.Multiplier(0), 0.625, 1e-12);
  // The shock ends at t0 + 2h: the estimate turns back from where it got to.
  q.OnLiveChange(t0 + 2 * h, {1.0, 1.0});
  EXPECT_NEAR(q.Multiplier(0), 0.625, 1e-12);
  q.Advance(t0 + 3 * h);
  EXPECT_NEAR(q.Multiplier(0), 1.0 - 0.375 / 2, 1e-12);
  q.Advance(t0 + 200 * h);  // converged: exactly the live value, no more refreshes
  EXPECT_EQ(q.Multiplier(0), 1.0);
}

TEST(PlatformQuality, ZeroHalfLifeFollowsAtOnce) {
  PlatformQuality q;
  q.Reset(1, {0});
  q.OnLiveChange(kMicrosPerHour, {0.3});
  EXPECT_EQ(q.Multiplier(0), 0.3);
}

// One campaign on a click-billed second-price channel, bidding 0.4 per click
// on users with click rate 0.02: score 0.008 against 4 competitors with
// LogNormal(ln 0.004, 0.5) scores, so it wins with probability
// Phi(ln 2 / 0.5)^4 = 0.71. From 1h on the users click a quarter as often; with
// the platform's live estimate the score falls to 0.002 at once and the win
// rate to Phi(-ln 2 / 0.5)^4 ~ 5e-5.
std::string QualityScenario(const std::string& half_life, bool shock) {
  return std::string(
             "name: quality\nseed: 11\nstart: '2026-03-02T00:00:00'\nduration: 12h\nbucket: 5m\n"
             "control_cycle: 1h\n"
             "channels:\n"
             "  - {name: search, auction: second_price, billing: click, floor: 0.001, quality_half_life: ") +
         half_life +
         ",\n     traffic: {per_hour: 36000}, competition: {competitors: 4, median: 0.004, sigma: 0.5}}\n"
         "segments:\n  - {name: a, users: 10000, ctr: 0.02, cvr: 0.1}\n"
         "campaigns:\n  - {name: one, bid: 0.4}\n" +
         (shock ? "shocks:\n  - {name: drop, start: 1h, end: 12h, channels: [search], multiply: {ctr: 0.25}}\n" : "");
}

struct WinRate {
  double rate, standard_error;
};
// Wins per bid during [from, to).
WinRate WinRateIn(const Results& r, SimTime from, SimTime to) {
  const auto& bucket = Col<int64_t>(r, "aggregates", "bucket_start");
  const auto& bids = Col<int64_t>(r, "aggregates", "bids");
  const auto& wins = Col<int64_t>(r, "aggregates", "wins");
  double b = 0, w = 0;
  for (size_t i = 0; i < bucket.size(); ++i)
    if (bucket[i] >= from && bucket[i] < to) {
      b += static_cast<double>(bids[i]);
      w += static_cast<double>(wins[i]);
    }
  EXPECT_GT(b, 1000) << "window [" << from << ", " << to << ")";
  const double p = w / b;
  return {p, std::sqrt(std::max(p * (1 - p), 1.0 / b) / b)};
}

Results RunText(const std::string& text) { return RunScenario(test::Parse(text)); }

TEST(PlatformQuality, AClickRateShockMovesPricesOnlyAsThePlatformLearnsIt) {
  const Results lagged = RunText(QualityScenario("1h", true));
  const Results live = RunText(QualityScenario("0s", true));
  const Results none = RunText(QualityScenario("1h", false));
  const SimTime shock = kMicrosPerHour, five = 5 * kMicrosPerMinute;
  // Before the shock the three runs are the same market and the same bids.
  EXPECT_EQ(WinRateIn(lagged, 0, shock).rate, WinRateIn(none, 0, shock).rate);
  EXPECT_EQ(WinRateIn(live, 0, shock).rate, WinRateIn(none, 0, shock).rate);

  // First 5 minutes of the shock: the live estimate drops the win rate at
  // once; the platform's has moved at most 1 - 2^(-5/60) = 5.6% of the way
  // (score 0.0076: win rate 0.65 instead of 0.71).
  const WinRate b = WinRateIn(none, shock, shock + five), c = WinRateIn(live, shock, shock + five),
                a = WinRateIn(lagged, shock, shock + five);
  const double gap = b.rate - c.rate;
  ASSERT_GT(gap, 10 * std::hypot(b.standard_error, c.standard_error));  // the comparison can tell
  EXPECT_LT(std::abs(a.rate - b.rate), 0.15 * gap) << "lagged " << a.rate << " none " << b.rate;

  // One half-life in: quality multiplier 0.625, score 0.005, win rate
  // Phi(ln 1.25 / 0.5)^4 = 0.20: between the two, well away from both.
  const WinRate mid = WinRateIn(lagged, 2 * shock, 2 * shock + five);
  const WinRate mid_none = WinRateIn(none, 2 * shock, 2 * shock + five);
  const WinRate mid_live = WinRateIn(live, 2 * shock, 2 * shock + five);
  EXPECT_GT(mid.rate, mid_live.rate + 5 * std::hypot(mid.standard_error, mid_live.standard_error));
  EXPECT_LT(mid.rate, mid_none.rate - 5 * std::hypot(mid.standard_error, mid_none.standard_error));

  // Ten half-lives in, the platform has learnt the shock: as with the live estimate.
  const WinRate late = WinRateIn(lagged, 11 * shock, 12 * shock), late_live = WinRateIn(live, 11 * shock, 12 * shock),
                late_none = WinRateIn(none, 11 * shock, 12 * shock);
  EXPECT_LT(std::abs(late.rate - late_live.rate), 0.05 * (late_none.rate - late_live.rate));
}

TEST(PlatformQuality, HalfLifeIsAClickBilledChannelField) {
  const auto channels = [](const std::string& fields) {
    return "name: q\nseed: 1\nstart: '2026-03-02T00:00:00'\nduration: 1h\n"
           "channels:\n  - {name: c, traffic: {per_hour: 100}, competition: {competitors: 2, median: 0.002}" +
           fields +
           "}\n"
           "segments:\n  - {name: a, users: 10, ctr: 0.01, cvr: 0.1}\ncampaigns:\n  - {name: one, bid: 0.1}\n";
  };
  EXPECT_EQ(test::Parse(channels(", billing: click")).channels[0].quality_half_life, 6 * kMicrosPerHour);
  EXPECT_EQ(test::Parse(channels(", billing: click, quality_half_life: 1d")).channels[0].quality_half_life,
            kMicrosPerDay);
  auto issues = test::IssuesOf(channels(", quality_half_life: 1h"));
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "channels[0].quality_half_life");
  EXPECT_NE(issues[0].expected.find("billing: click"), std::string::npos);
  issues = test::IssuesOf(channels(", billing: click, quality_half_life: soon"));
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "channels[0].quality_half_life");
  EXPECT_EQ(issues[0].line, 6);  // the channel's line
}

}  // namespace
}  // namespace adsim
