// The daily table's budget_exhausted column (run_loop.cc, recorder.cc): the
// first time in a day the campaign's remaining budget could not pay the bid
// it wanted, recomputed here independently from the opportunity log.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "tests/core/test_util.h"

namespace adsim {
namespace {

// One campaign, one channel, one segment, a fixed bid of 0.004 and a daily
// budget of 150 that a fixed bid spends by early afternoon (the pid_pacing
// test's market), with the opportunity log on.
std::string FixedBidScenario(const std::string& campaign_extra = "") {
  return "name: exhaust\nseed: 17\nstart: '2026-03-02T00:00:00'\nduration: 3d\nbucket: 1h\ncontrol_cycle: 15m\n"
         "recording: {events: true, max_events: 10000000}\n"
         "channels:\n  - name: display\n    floor: 0.0002\n    traffic:\n      per_hour: 30000\n"
         "      hour_of_day: [0.4, 0.3, 0.25, 0.25, 0.3, 0.45, 0.7, 0.95, 1.1, 1.2, 1.25, 1.3,\n"
         "                    1.3, 1.25, 1.2, 1.2, 1.25, 1.35, 1.45, 1.55, 1.5, 1.3, 0.95, 0.6]\n"
         "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
         "segments:\n  - {name: s, users: 100000, ctr: 0.004, cvr: 0.05}\n"
         "campaigns:\n  - name: k\n    bid: 0.004\n" +
         campaign_extra;
}

TEST(BudgetExhausted, IsTheFirstRequestTheRemainingDailyBudgetCannotPayTheBid) {
  const Results r = RunScenario(test::Parse(FixedBidScenario("    budget: {daily: 150}\n")));
  const auto& exhausted = test::Col<int64_t>(r, "daily", "budget_exhausted");
  const auto& day_start = test::Col<int64_t>(r, "daily", "day_start");
  ASSERT_EQ(exhausted.size(), 3u);
  // Independent recomputation from the log: every opportunity is a bid request
  // of the only campaign; replay the day's charges in integer micros and find
  // the first request at which budget - spend_so_far < the bid (4000 micros).
  // Expected: exactly that request's time (the ledger is exact to the micro).
  const auto& time = test::Col<int64_t>(r, "events", "time");
  const auto& winner = test::Col<int64_t>(r, "events", "winner");
  const auto& price = test::Col<double>(r, "events", "price");
  const int64_t budget = 150'000'000, bid = 4'000;
  for (size_t d = 0; d < 3; ++d) {
    const int64_t begin = day_start[d], end = begin + kMicrosPerDay;
    int64_t spent = 0, expected = -1;
    for (size_t i = 0; i < time.size(); ++i) {
      if (time[i] < begin || time[i] >= end) continue;
      if (budget - spent < bid) {
        expected = time[i];
        break;
      }
      if (winner[i] == 0) spent += std::llround(price[i] * 1e6);
    }
    ASSERT_GE(expected, 0) << "a fixed bid spends this budget every day (PidPacing.FixedBidExhaustsTheBudgetEarly)";
    EXPECT_EQ(exhausted[d], expected) << "day " << d;
    // Run out by mid-afternoon: before 16:00 on every day.
    EXPECT_LT(exhausted[d] - begin, 16 * kMicrosPerHour) << "day " << d;
  }
}

TEST(BudgetExhausted, IsMinusOneWhenTheBudgetNeverBinds) {
  // A budget far above what the fixed bid can spend in a day (about 30,000
  // opportunities an hour x 0.004 at most = 2,900 a day), and no budget at all.
  for (const std::string budget : {"    budget: {daily: 100000}\n", ""}) {
    const Results r = RunScenario(test::Parse(FixedBidScenario(budget)));
    for (int64_t t : test::Col<int64_t>(r, "daily", "budget_exhausted")) EXPECT_EQ(t, -1) << budget;
  }
}

TEST(BudgetExhausted, ATotalBudgetRunsOutOnceAndStaysOut) {
  // Total 200 over three days, no daily budget: the fixed bid spends it
  // within the first day; on every later day the remaining budget is below
  // the bid from the day's first request on.
  const Results r = RunScenario(test::Parse(FixedBidScenario("    budget: {total: 200}\n")));
  const auto& exhausted = test::Col<int64_t>(r, "daily", "budget_exhausted");
  const auto& day_start = test::Col<int64_t>(r, "daily", "day_start");
  const auto& spend_total = test::Col<double>(r, "daily", "spend_total");
  const auto& time = test::Col<int64_t>(r, "events", "time");
  ASSERT_EQ(exhausted.size(), 3u);
  EXPECT_GT(exhausted[0], day_start[0]);  // ran out during the first day...
  EXPECT_LT(exhausted[0], day_start[1]);
  EXPECT_GT(spend_total[0], 200 - 0.004);  // ...with less than one bid left
  EXPECT_LE(spend_total[2], 200.0);
  for (size_t d = 1; d < 3; ++d) {
    int64_t first_request = -1;
    for (int64_t t : time)
      if (t >= day_start[d]) {
        first_request = t;
        break;
      }
    EXPECT_EQ(exhausted[d], first_request) << "day " << d;
  }
}

}  // namespace
}  // namespace adsim
