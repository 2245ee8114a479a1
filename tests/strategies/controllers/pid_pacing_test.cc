// PID pacing against its purpose: spend the daily budget along the traffic
// curve, where a fixed bid exhausts it by mid-day.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "tests/core/test_util.h"

namespace adsim {
namespace {

std::string PacingScenario(const std::string& controllers) {
  return "name: pacing\nseed: 17\nstart: '2026-03-02T00:00:00'\nduration: 4d\nbucket: 1h\ncontrol_cycle: 15m\n"
         "channels:\n  - name: display\n    floor: 0.0002\n    traffic:\n      per_hour: 30000\n"
         "      hour_of_day: [0.4, 0.3, 0.25, 0.25, 0.3, 0.45, 0.7, 0.95, 1.1, 1.2, 1.25, 1.3,\n"
         "                    1.3, 1.25, 1.2, 1.2, 1.25, 1.35, 1.45, 1.55, 1.5, 1.3, 0.95, 0.6]\n"
         "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
         "segments:\n  - {name: s, users: 100000, ctr: 0.004, cvr: 0.05}\n"
         "campaigns:\n  - name: k\n    bid: 0.004\n    budget: {daily: 150}\n" +
         controllers;
}

// Share of a day's expected traffic before the end of each hour.
std::vector<double> TrafficCurve(const Scenario& sc) {
  std::vector<double> cum(24);
  double acc = 0;
  for (int h = 0; h < 24; ++h) cum[h] = (acc += sc.channels[0].hour_of_day[h] / 24.0);
  return cum;
}

// Cumulative spend fraction of the daily budget at the end of each hour of day d.
std::vector<double> SpendCurve(const Results& r, int day, double budget) {
  const auto& bucket = test::Col<int64_t>(r, "aggregates", "bucket_start");
  const auto& spend = test::Col<double>(r, "aggregates", "spend");
  std::vector<double> hourly(24, 0.0);
  for (size_t i = 0; i < bucket.size(); ++i)
    if (bucket[i] / kMicrosPerDay == day) hourly[(bucket[i] / kMicrosPerHour) % 24] += spend[i];
  std::vector<double> cum(24);
  double acc = 0;
  for (int h = 0; h < 24; ++h) cum[h] = (acc += hourly[h]) / budget;
  return cum;
}

TEST(PidPacing, FixedBidExhaustsTheBudgetEarly) {
  const Results r = RunScenario(test::Parse(PacingScenario("")));
  const auto curve = SpendCurve(r, 1, 150);
  EXPECT_GE(curve[13], 0.999);  // the whole day's budget gone by 14:00
}

TEST(PidPacing, SpendsTheDailyBudgetAlongTheTrafficCurve) {
  const Scenario sc = test::Parse(PacingScenario("    controllers: [pid_pacing]\n"));
  const Results r = RunScenario(sc);
  const auto target = TrafficCurve(sc);
  const auto& daily_spend = test::Col<double>(r, "daily", "spend");
  ASSERT_EQ(daily_spend.size(), 4u);
  for (int d = 0; d < 4; ++d) {
    // Measure 1: the day's spend is 90-100% of the budget (never over: the ledger).
    EXPECT_GE(daily_spend[d], 0.90 * 150) << "day " << d;
    EXPECT_LE(daily_spend[d], 150.0) << "day " << d;
    // Measure 2: the largest gap, over the hours of the day, between the
    // cumulative spend fraction and the cumulative traffic share at the end of
    // the hour. Bound: 0.15 on the first day, while the controller learns the
    // bid level from a bid far too high, and 0.03 on later days.
    const auto curve = SpendCurve(r, d, 150);
    double worst = 0;
    for (int h = 0; h < 24; ++h) worst = std::max(worst, std::fabs(curve[h] - target[h]));
    EXPECT_LT(worst, d == 0 ? 0.15 : 0.03) << "day " << d;
  }
  // Every action went through the guardrails and is recorded.
  EXPECT_GT(test::Col<std::string>(r, "actions", "status").size(), 100u);
}

// A week with only a total budget, on a channel whose weekend carries about
// three times the traffic of a Monday: lifetime pacing must follow the week's
// traffic, not the clock.
std::string LifetimeScenario(const std::string& controllers) {
  return "name: lifetime\nseed: 23\nstart: '2026-03-02T00:00:00'\nduration: 7d\nbucket: 1h\ncontrol_cycle: 15m\n"
         "channels:\n  - name: display\n    floor: 0.0002\n    traffic:\n      per_hour: 30000\n"
         "      hour_of_day: [0.4, 0.3, 0.25, 0.25, 0.3, 0.45, 0.7, 0.95, 1.1, 1.2, 1.25, 1.3,\n"
         "                    1.3, 1.25, 1.2, 1.2, 1.25, 1.35, 1.45, 1.55, 1.5, 1.3, 0.95, 0.6]\n"
         "      day_of_week: [0.6, 0.6, 0.8, 1.0, 1.2, 1.9, 1.9]\n"
         "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
         "segments:\n  - {name: s, users: 100000, ctr: 0.004, cvr: 0.05}\n"
         "campaigns:\n  - name: k\n    bid: 0.003\n    budget: {total: 700}\n" +
         controllers;
}

// Per hour of the run, the largest gap between the cumulative spend share of
// `budget` and the cumulative expected-traffic share of the flight (from the
// scenario's normalised hour-of-day and day-of-week profiles; the run starts
// on a Monday at midnight).
double LifetimeGap(const Scenario& sc, const Results& r, double budget, int hours, int* worst_hour = nullptr) {
  const auto& ch = sc.channels[0];
  std::vector<double> traffic(hours), spend(hours, 0.0);
  double total = 0;
  for (int h = 0; h < hours; ++h) total += (traffic[h] = ch.hour_of_day[h % 24] * ch.day_of_week[(h / 24) % 7]);
  const auto& bucket = test::Col<int64_t>(r, "aggregates", "bucket_start");
  const auto& s = test::Col<double>(r, "aggregates", "spend");
  for (size_t i = 0; i < bucket.size(); ++i) spend[bucket[i] / kMicrosPerHour] += s[i];
  double ct = 0, cs = 0, worst = 0;
  for (int h = 0; h < hours; ++h) {
    ct += traffic[h] / total;
    cs += spend[h] / budget;
    if (std::fabs(cs - ct) > worst) {
      worst = std::fabs(cs - ct);
      if (worst_hour) *worst_hour = h;
    }
  }
  return worst;
}

TEST(PidPacing, PacesALifetimeBudgetAlongTheWeeksTraffic) {
  const Scenario sc = test::Parse(LifetimeScenario("    controllers: [pid_pacing]\n"));
  const Results r = RunScenario(sc);
  // Measure 1: the flight spends 95-100% of the total budget (never over: the ledger).
  double spent = 0;
  for (double d : test::Col<double>(r, "daily", "spend")) spent += d;
  EXPECT_GE(spent, 0.95 * 700);
  EXPECT_LE(spent, 700 + 1e-6);
  // Measure 2 (docs/strategies/controllers/pid_pacing.md): the largest gap over the 168
  // hours between cumulative spend share and cumulative expected-traffic
  // share. Bound 0.03 of the total (a fifth of Monday's share).
  int at = -1;
  const double gap = LifetimeGap(sc, r, 700, 168, &at);
  EXPECT_LT(gap, 0.03) << "at hour " << at;
  std::printf("lifetime: spent %.2f of 700, largest gap %.4f at hour %d\n", spent, gap, at);
  // Even in time ignores the weekend: its gap to the traffic curve is larger
  // than the bound (the curves differ by ~0.1 at Friday midnight).
  const Scenario even = test::Parse(LifetimeScenario("    controllers: [{type: pid_pacing, params: {curve: even}}]\n"));
  EXPECT_GT(LifetimeGap(even, RunScenario(even), 700, 168), 0.03);
}

// The pacing_target table: the curve the controller steered to, as it saw it.
TEST(PidPacing, RecordsItsDailyTargetCurveAndTheSpendItSaw) {
  const Scenario sc = test::Parse(PacingScenario("    controllers: [pid_pacing]\n"));
  const Results r = RunScenario(sc);
  const auto& time = test::Col<int64_t>(r, "pacing_target", "time");
  const auto& campaign = test::Col<int64_t>(r, "pacing_target", "campaign");
  const auto& scope = test::Col<std::string>(r, "pacing_target", "scope");
  const auto& share = test::Col<double>(r, "pacing_target", "target_share");
  const auto& target = test::Col<double>(r, "pacing_target", "target_spend");
  const auto& budget = test::Col<double>(r, "pacing_target", "budget");
  const auto& spend = test::Col<double>(r, "pacing_target", "spend");
  // One row per control cycle: 4 days x 96 cycles of 15 minutes.
  ASSERT_EQ(time.size(), 4u * 96u);
  const auto cum = TrafficCurve(sc);
  // Spend per hour bucket, to rebuild the spend the controller saw at hh:00.
  const auto& bucket = test::Col<int64_t>(r, "aggregates", "bucket_start");
  const auto& bucket_spend = test::Col<double>(r, "aggregates", "spend");
  for (size_t i = 0; i < time.size(); ++i) {
    EXPECT_EQ(campaign[i], 0);
    EXPECT_EQ(scope[i], "day");
    EXPECT_EQ(budget[i], 150.0);  // today's plan: the daily budget (no total budget)
    EXPECT_NEAR(target[i], 150.0 * share[i], 1e-9);
    if (time[i] % kMicrosPerHour != 0) continue;
    // At hh:00 the target share is the day's expected traffic before hh:00:
    // cum[h - 1] (0 at midnight), the documented curve.
    const int hour = static_cast<int>((time[i] / kMicrosPerHour) % 24);
    // (TrafficCurve divides by 24; the hour_of_day weights sum to cum[23] x 24.)
    EXPECT_NEAR(share[i], hour == 0 ? 0.0 : cum[hour - 1] / cum[23], 1e-12) << "t " << time[i];
    // The spend column is today's spend at the cycle: the hourly buckets of
    // the day before hh:00, summed (exact to the micro).
    const int64_t day_begin = time[i] - time[i] % kMicrosPerDay;
    double expected = 0;
    for (size_t b = 0; b < bucket.size(); ++b)
      if (bucket[b] >= day_begin && bucket[b] < time[i]) expected += bucket_spend[b];
    EXPECT_NEAR(spend[i], expected, 1e-6) << "t " << time[i];
  }
}

TEST(PidPacing, NoPacingControllerNoTargetRows) {
  const Results r = RunScenario(test::Parse(PacingScenario("")));
  EXPECT_TRUE(test::Col<int64_t>(r, "pacing_target", "time").empty());
}

TEST(PidPacing, RecordsTheFlightTargetWithOnlyATotalBudget) {
  const Scenario sc = test::Parse(LifetimeScenario("    controllers: [pid_pacing]\n"));
  const Results r = RunScenario(sc);
  const auto& scope = test::Col<std::string>(r, "pacing_target", "scope");
  const auto& share = test::Col<double>(r, "pacing_target", "target_share");
  const auto& budget = test::Col<double>(r, "pacing_target", "budget");
  // One row per cycle until the total is spent (the controller stops pacing then).
  ASSERT_LE(scope.size(), 7u * 96u);
  ASSERT_GT(scope.size(), 6u * 96u);
  for (size_t i = 0; i < scope.size(); ++i) {
    EXPECT_EQ(scope[i], "flight");
    EXPECT_EQ(budget[i], 700.0);
    if (i > 0) {
      EXPECT_GE(share[i], share[i - 1]);  // a cumulative share never goes down
    }
  }
  EXPECT_EQ(share.front(), 0.0);  // nothing is due at t = 0
  EXPECT_GT(share.back(), 0.95);  // nearly all of the flight's traffic is behind the last row
}

}  // namespace
}  // namespace adsim
