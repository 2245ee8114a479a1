// Budgets are hard caps at every level (docs/engine.md, "Budgets"): a
// controller cannot raise a budget above what the scenario set unless the
// guardrails allow it, a budget is never cut below what is already spent, and
// the account cap holds for all campaigns together.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/guardrails.h"
#include "core/ledger.h"
#include "core/registry.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;
using test::Parse;
using test::SmallScenario;

// Ledger micros of a value read back from a result table (exact below 2^53 micros).
Micros ToMicros(double units) { return std::llround(units * kMicrosPerUnit); }

// Asks for a budget of its own campaign: every cycle `factor` x the current
// one (when factor > 0), or `value` once at cycle `at_cycle` (when value >= 0).
// `total` = 1 acts on the total budget instead of the daily one.
class BudgetScript final : public Controller {
 public:
  explicit BudgetScript(const BuildContext& ctx)
      : factor_(ctx.params.Number("factor")),
        value_(ctx.params.Number("value")),
        at_cycle_(static_cast<int>(ctx.params.Number("at_cycle"))),
        total_(ctx.params.Number("total") > 0) {}
  void OnCycle(const Snapshot& snap, int campaign, std::vector<Action>* actions) override {
    const int cycle = cycle_++;
    const CampaignState& st = snap.campaigns[campaign];
    const double cur = total_ ? st.total_budget : st.daily_budget;
    Action a;
    a.kind = total_ ? ActionKind::kSetTotalBudget : ActionKind::kSetDailyBudget;
    a.campaign = campaign;
    if (factor_ > 0) {
      a.value = cur * factor_;
    } else if (value_ >= 0 && cycle == at_cycle_) {
      a.value = value_;
    } else {
      return;
    }
    actions->push_back(a);
  }

 private:
  double factor_, value_;
  int at_cycle_;
  bool total_;
  int cycle_ = 0;
};
const Registration kBudgetScript({.name = "test_budget_script",
                                  .kind = ComponentKind::kController,
                                  .description = "test: asks for budget changes",
                                  .params = {NumberParam("factor", 0, "x the current budget every cycle", 0, 1e6),
                                             NumberParam("value", -1, "a budget asked once", -1, 1e15),
                                             NumberParam("at_cycle", 0, "when to ask for value", 0, 1e6),
                                             NumberParam("total", 0, "1: the total budget", 0, 1)},
                                  .campaign_scoped = true,
                                  .origin = "C++",
                                  .make_bidder = nullptr,
                                  .make_controller = [](const BuildContext& ctx) -> std::unique_ptr<Controller> {
                                    return std::make_unique<BudgetScript>(ctx);
                                  }});

// Campaign "one" (daily budget 60, bids 0.003 on 40,000 display requests an
// hour) could spend several hundred a day: its budget binds.
std::string Raising(const std::string& guardrails, const std::string& params, const std::string& duration = "2d") {
  return SmallScenario(guardrails, "    controllers: [{type: test_budget_script, params: " + params + "}]\n", duration,
                       40000);
}

TEST(BudgetCeiling, AControllerCannotRaiseADailyBudgetAboveWhatTheScenarioSet) {
  // Asking x1.5 every cycle (max_change 0.5) would reach 60 x 1.5^96 by the
  // end of day one; the scenario's 60 is the ceiling.
  const Results r = RunScenario(Parse(Raising("", "{factor: 1.5}")));
  const auto& camp = Col<int64_t>(r, "daily", "campaign");
  const auto& budget = Col<double>(r, "daily", "max_daily_budget");
  const auto& spend = Col<double>(r, "daily", "spend");
  int binding = 0;
  for (size_t i = 0; i < camp.size(); ++i) {
    if (camp[i] != 0) continue;
    EXPECT_LE(budget[i], 60.0);
    EXPECT_LE(ToMicros(spend[i]), 60'000'000);
    binding += spend[i] > 0.99 * 60;
  }
  EXPECT_EQ(binding, 2);  // the cap binds on both days, so the check above means something
  const auto& status = Col<std::string>(r, "actions", "status");
  const auto& note = Col<std::string>(r, "actions", "note");
  ASSERT_FALSE(status.empty());
  EXPECT_EQ(status[0], "clamped");
  EXPECT_EQ(note[0], "clamped by max_budget_raise (the scenario's budget)");
}

TEST(BudgetCeiling, AControllerCannotRaiseATotalBudgetAboveWhatTheScenarioSet) {
  // Campaign "one" gets a total budget of 100 over three days of a daily 60.
  std::string text = Raising("", "{factor: 1.5, total: 1}", "3d");
  text.replace(text.find("budget: {daily: 60}"), 19, "budget: {daily: 60, total: 100}");
  const Results r = RunScenario(Parse(text));
  const auto& camp = Col<int64_t>(r, "daily", "campaign");
  const auto& total = Col<double>(r, "daily", "total_budget");
  const auto& spend_total = Col<double>(r, "daily", "spend_total");
  for (size_t i = 0; i < camp.size(); ++i) {
    if (camp[i] != 0) continue;
    EXPECT_EQ(total[i], 100.0);
    EXPECT_LE(ToMicros(spend_total[i]), 100'000'000);
  }
  EXPECT_GT(spend_total[camp.size() - 2], 99.0);  // the last day's row of "one": the total binds
}

TEST(BudgetCeiling, GuardrailsCanAllowRaisesExplicitly) {
  // max_budget_raise 3: up to 180 a day; review_budget_raise 4 lets x1.5 steps through.
  Results r =
      RunScenario(Parse(Raising("guardrails: {max_budget_raise: 3, review_budget_raise: 4}\n", "{factor: 1.5}")));
  EXPECT_EQ(Col<double>(r, "daily", "max_daily_budget")[0], 180.0);
  EXPECT_GT(Col<double>(r, "daily", "spend")[0], 100.0);
  EXPECT_LE(ToMicros(Col<double>(r, "daily", "spend")[0]), 180'000'000);
  // An explicit max_daily_budget replaces the raise factor.
  r = RunScenario(Parse(Raising("guardrails: {max_daily_budget: 75}\n", "{factor: 1.5}")));
  EXPECT_EQ(Col<double>(r, "daily", "max_daily_budget")[0], 75.0);
  EXPECT_EQ(Col<std::string>(r, "actions", "note")[1], "clamped by max_daily_budget");
}

TEST(BudgetCeiling, RaisesAboveTheReviewLevelAreHeld) {
  // 60 -> 150 is within max_change 2 and the ceiling 3 x 60, but above
  // review_budget_raise 2 x 60 = 120: held, not applied.
  const Results r = RunScenario(
      Parse(Raising("guardrails: {max_change: 2, review_threshold: 2, max_budget_raise: 3}\n", "{value: 150}", "1d")));
  ASSERT_EQ(Col<std::string>(r, "actions", "status").size(), 1u);
  EXPECT_EQ(Col<std::string>(r, "actions", "status")[0], "held");
  EXPECT_EQ(Col<double>(r, "actions", "new")[0], 60.0);
  EXPECT_EQ(Col<double>(r, "daily", "max_daily_budget")[0], 60.0);
}

TEST(BudgetCeiling, CeilingFunctions) {
  CampaignSpec c;
  c.daily_budget = 50;
  EXPECT_EQ(BudgetCeiling(c, true), 50);
  EXPECT_EQ(BudgetCeiling(c, false), INFINITY);  // no total budget set: none to keep
  EXPECT_EQ(BudgetReviewLevel(c, true), 100);
  c.guardrails.max_budget_raise = 1.5;
  EXPECT_EQ(BudgetCeiling(c, true), 75);
  c.guardrails.max_daily_budget = 20;  // explicit: replaces the factor, even below the budget
  EXPECT_EQ(BudgetCeiling(c, true), 20);
  GuardrailDecision d;
  d.value = 30;
  d = ApplyBudgetCeiling(c, true, 30, d);
  EXPECT_EQ(d.status, ActionStatus::kClamped);
  EXPECT_EQ(d.value, 20);
  d.status = ActionStatus::kApplied;
  d = ApplyBudgetCeiling(c, true, 101, d);  // above 2 x 50
  EXPECT_EQ(d.status, ActionStatus::kHeld);
}

TEST(Budgets, ACutBelowWhatIsSpentStopsAtTheSpend) {
  // At 1:00 (cycle 4) "one" has spent part of its 60: asking for 1 gives its
  // spend so far, recorded as clamped; it spends nothing more that day.
  const Results r = RunScenario(
      Parse(Raising("guardrails: {max_change: 1, review_threshold: 1}\n", "{value: 1, at_cycle: 4}", "1d")));
  const auto& status = Col<std::string>(r, "actions", "status");
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0], "clamped");
  EXPECT_EQ(Col<std::string>(r, "actions", "note")[0], "clamped by spend_today");
  const double set = Col<double>(r, "actions", "new")[0];
  EXPECT_GT(set, 1.0);
  EXPECT_LT(set, 60.0);
  EXPECT_EQ(Col<double>(r, "daily", "daily_budget")[0], set);
  EXPECT_EQ(Col<double>(r, "daily", "spend")[0], set);  // nothing spent after the cut, nothing lost before it
}

// ---- The account cap

std::string WithAccount(const std::string& account, const std::string& duration = "3d") {
  // Both campaigns bid on the GSP search channel, so two of ours can win
  // slots of one auction: their bids together must fit the account cap.
  std::string text = SmallScenario(account, "", duration, 40000);
  text.replace(text.find("budget: {daily: 15, total: 100}"), 31, "budget: {daily: 40, total: 500}");
  return text;
}

TEST(AccountCap, AllCampaignsTogetherStayWithinTheDailyAndTotalCaps) {
  const Results r = RunScenario(Parse(WithAccount("account_budget: {daily: 25, total: 60}\n")));
  const auto& day = Col<int64_t>(r, "daily", "day_start");
  const auto& spend = Col<double>(r, "daily", "spend");
  const auto& spend_total = Col<double>(r, "daily", "spend_total");
  std::vector<Micros> per_day(3, 0);
  Micros total = 0;
  for (size_t i = 0; i < day.size(); ++i) {
    per_day[static_cast<size_t>(day[i] / kMicrosPerDay)] += ToMicros(spend[i]);
    if (day[i] == 2 * kMicrosPerDay) total += ToMicros(spend_total[i]);
  }
  // Day one and two: the daily cap binds (25 each); day three: the total, 60 - 50 = 10.
  EXPECT_LE(per_day[0], 25'000'000);
  EXPECT_GT(per_day[0], 24'000'000);
  EXPECT_LE(per_day[1], 25'000'000);
  EXPECT_LE(total, 60'000'000);
  EXPECT_GT(total, 59'000'000);
}

TEST(AccountCap, AnAbsentOrLooseCapChangesNothing) {
  const Results none = RunScenario(Parse(WithAccount("", "1d")));
  const Results loose = RunScenario(Parse(WithAccount("account_budget: {daily: 1e12, total: 1e12}\n", "1d")));
  EXPECT_EQ(Fingerprint(none), Fingerprint(loose));
  const Results tight = RunScenario(Parse(WithAccount("account_budget: {daily: 10}\n", "1d")));
  EXPECT_NE(Fingerprint(none), Fingerprint(tight));
}

TEST(AccountCap, BadValuesNameTheField) {
  auto issues = test::IssuesOf(WithAccount("account_budget: {daily: -1}\n"));
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "account_budget.daily");
  issues = test::IssuesOf(WithAccount("account_budget: {weekly: 5}\n"));
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "account_budget.weekly");
  issues = test::IssuesOf(WithAccount("guardrails: {max_budget_raise: 0.5}\n"));
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "guardrails.max_budget_raise");
}

}  // namespace
}  // namespace adsim
