// Budgets in the ledger: rounded to the nearest micro (8.2 is 8,200,000
// micros, not the 8,199,999 that flooring the double 8.1999999999999993
// gave), held exactly up to the documented limit of 1e12 currency units, and
// rejected with a clear error above it instead of being silently capped.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ledger.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

TEST(Money, BudgetsInCentsAreHeldExactly) {
  EXPECT_EQ(Ledger::FromUnits(8.2), 8'200'000);
  EXPECT_EQ(Ledger::FromUnits(0.29), 290'000);
  // Every amount in cents up to 100,000.00, and some with micro digits.
  for (int64_t cents = 0; cents <= 10'000'000; ++cents)
    ASSERT_EQ(Ledger::FromUnits(static_cast<double>(cents) / 100.0), cents * 10'000) << cents;
  EXPECT_EQ(Ledger::FromUnits(1234.567891), 1'234'567'891);
  EXPECT_EQ(Ledger::FromUnits(0.0000004), 0);  // below half a micro
  EXPECT_EQ(Ledger::FromUnits(0.0000006), 1);
  EXPECT_EQ(Ledger::FromUnits(0.0), 0);
  EXPECT_EQ(Ledger::FromUnits(INFINITY), Ledger::kNone);
  EXPECT_EQ(Ledger::FromUnits(NAN), 0);
}

TEST(Money, ABudgetOf8Point2CanBeSpentToTheLastMicro) {
  Ledger l;
  l.SetTotalBudget(Ledger::FromUnits(8.2));
  l.Charge(8'000'000);
  l.Charge(200'000);  // threw with the floored budget: 199,999 micros were left
  EXPECT_EQ(l.Remaining(), 0);
  EXPECT_THROW(l.Charge(1), InvariantError);
}

TEST(Money, TheLargestBudgetIsHeldExactlyAndBelowUnlimited) {
  EXPECT_EQ(kMaxBudgetUnits, 1e12);
  EXPECT_EQ(Ledger::FromUnits(1e12), kMaxBudgetMicros);
  EXPECT_EQ(kMaxBudgetMicros, 1'000'000'000'000'000'000);
  EXPECT_LT(kMaxBudgetMicros, Ledger::kUnlimited);
  EXPECT_EQ(Ledger::FromUnits(999'999'999'999.5), 999'999'999'999'500'000);
  // Above the limit (an action may ask for it; validation rejects it in a
  // scenario) the budget holds as the limit, never wraps or overflows.
  EXPECT_EQ(Ledger::FromUnits(1e15), kMaxBudgetMicros);
  EXPECT_EQ(Ledger::FromUnits(1e300), kMaxBudgetMicros);
  Ledger l;
  l.SetDailyBudget(Ledger::FromUnits(1e12));
  l.SetTotalBudget(Ledger::FromUnits(1e12));
  l.Charge(kMaxBudgetMicros - 1);
  EXPECT_EQ(l.Remaining(), 1);
  EXPECT_EQ(Ledger::ToUnits(l.spend_total() + 1), 1e12);
}

std::string WithBudget(const std::string& budget, const std::string& extra = "") {
  std::string text = test::SmallScenario(extra);
  const std::string old = "budget: {daily: 60}";
  text.replace(text.find(old), old.size(), "budget: " + budget);
  return text;
}

TEST(Money, ResultsShowTheBudgetAsWritten) {
  const Results r = RunScenario(test::Parse(WithBudget("{daily: 8.2, total: 1e12}")));
  const auto& campaign = test::Col<int64_t>(r, "daily", "campaign");
  const auto& daily = test::Col<double>(r, "daily", "daily_budget");
  const auto& total = test::Col<double>(r, "daily", "total_budget");
  const auto& spend = test::Col<double>(r, "daily", "spend");
  int rows = 0;
  for (size_t i = 0; i < campaign.size(); ++i) {
    if (campaign[i] != 0) continue;
    ++rows;
    EXPECT_EQ(daily[i], 8.2);  // 8.199999 before
    EXPECT_EQ(total[i], 1e12);
    EXPECT_LE(spend[i], 8.2);
  }
  EXPECT_GT(rows, 0);
}

TEST(Money, BudgetsAboveTheLimitAreRejectedWithTheField) {
  // 1e12 is accepted (above); anything larger is an error naming the field,
  // including the 4.62e12 that used to be capped silently at 4.61e12.
  for (const std::string value : {"1000000000000.001", "4.62e12", "1e15"}) {
    const auto issues = test::IssuesOf(WithBudget("{total: " + value + "}"));
    ASSERT_EQ(issues.size(), 1u) << value;
    EXPECT_EQ(issues[0].path, "campaigns[0].budget.total");
    EXPECT_GT(issues[0].line, 0);
    EXPECT_NE(issues[0].expected.find("1e+12"), std::string::npos) << issues[0].expected;
    EXPECT_NE(issues[0].expected.find("micros"), std::string::npos) << issues[0].expected;
    EXPECT_EQ(issues[0].found, value);
  }
  auto issues = test::IssuesOf(WithBudget("{daily: 2e12}"));
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "campaigns[0].budget.daily");
  issues = test::IssuesOf(WithBudget("{daily: 1}", "guardrails: {max_daily_budget: 1e13}\n"));
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "guardrails.max_daily_budget");
  EXPECT_NO_THROW(test::Parse(WithBudget("{daily: 1e12, total: 1e12}", "guardrails: {max_daily_budget: 1e12}\n")));
}

}  // namespace
}  // namespace adsim
