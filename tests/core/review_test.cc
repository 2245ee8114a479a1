// Human oversight in the loop (core/review.h): held actions decided by a
// simulated reviewer after a latency, what waiting costs, what rejection saves.
#include "core/review.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "core/registry.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;
using test::IssuesOf;
using test::Parse;

// Sets the campaign's bid to `factor` x its bid of the moment at cycle
// `at_cycle` (1 = the cycle at t = 0), and again at every cycle up to
// `until_cycle` (0: once), asking for review when `ask_review` is 1; at cycle
// `small_at` (0: never) it moves the bid by +10% instead. With `pause` 1 it
// pauses the campaign instead of the big move.
class ReviewMove final : public Controller {
 public:
  explicit ReviewMove(const BuildContext& ctx)
      : factor_(ctx.params.Number("factor")),
        at_(static_cast<int>(ctx.params.Number("at_cycle"))),
        until_(static_cast<int>(ctx.params.Number("until_cycle"))),
        small_at_(static_cast<int>(ctx.params.Number("small_at"))),
        ask_review_(ctx.params.Number("ask_review") > 0),
        pause_(ctx.params.Number("pause") > 0),
        budget_(ctx.params.Number("budget") > 0) {}
  void OnCycle(const Snapshot& snap, int campaign, std::vector<Action>* actions) override {
    ++cycle_;
    Action a;
    a.kind = ActionKind::kSetBid;
    a.campaign = campaign;
    a.review = ask_review_;
    if (cycle_ == small_at_) {
      a.value = snap.campaigns[campaign].bid * 1.1;
      a.reason = "small";
      a.review = false;
    } else if (cycle_ == at_ || (cycle_ > at_ && cycle_ <= until_)) {
      a.kind = pause_ ? ActionKind::kPauseCampaign : budget_ ? ActionKind::kSetDailyBudget : ActionKind::kSetBid;
      a.value =
          budget_ ? snap.campaigns[campaign].daily_budget * factor_ : snap.campaigns[campaign].initial_bid * factor_;
      a.reason = "big";
    } else {
      return;
    }
    actions->push_back(a);
  }

 private:
  double factor_;
  int at_, until_, small_at_;
  bool ask_review_, pause_, budget_;
  int cycle_ = 0;
};
const Registration kReviewMove({.name = "test_review_move",
                                .kind = ComponentKind::kController,
                                .description = "test: one big bid move, held for review",
                                .params = {NumberParam("factor", 4.0, "bid multiplier"),
                                           NumberParam("at_cycle", 1, "cycle number"),
                                           NumberParam("until_cycle", 0, "repeat up to this cycle"),
                                           NumberParam("small_at", 0, "cycle of a +10% move"),
                                           NumberParam("ask_review", 0, "1: the action asks for review"),
                                           NumberParam("pause", 0, "1: pause the campaign instead"),
                                           NumberParam("budget", 0, "1: move the daily budget instead")},
                                .campaign_scoped = true,
                                .origin = "C++",
                                .make_bidder = nullptr,
                                .make_controller = [](const BuildContext& ctx) -> std::unique_ptr<Controller> {
                                  return std::make_unique<ReviewMove>(ctx);
                                }});

// One display channel, one segment, one campaign whose bid (0.001) is far
// below the 5 competitors' (lognormal, median 0.002, sigma 0.6): it wins
// P(all 5 below 0.001) = Phi(ln(0.5)/0.6)^5 = 0.124^5 ~ 3e-5 of the auctions.
// At 4x (0.004) it wins Phi(ln(2)/0.6)^5 = 0.876^5 ~ 0.52: about
// 20000 x 0.52 x 0.02 x 0.2 ~ 42 conversions an hour. So the x4 move is
// beneficial, and every hour it waits costs ~42 conversions.
std::string ReviewScenario(const std::string& review, const std::string& controller,
                           const std::string& guard = "max_change: 0.5, review_threshold: 1.0, max_bid: 1",
                           const std::string& bid = "0.001") {
  return "name: review\nseed: 11\nduration: 1d\nbucket: 1h\ncontrol_cycle: 1h\n"
         "channels:\n"
         "  - name: display\n    auction: second_price\n    floor: 0.0005\n"
         "    traffic: {per_hour: 20000}\n"
         "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
         "segments:\n"
         "  - {name: a, users: 50000, ctr: 0.02, cvr: 0.2, conversion_delay: {distribution: exponential, mean: 30m}}\n"
         "campaigns:\n"
         "  - name: one\n    bid: " +
         bid +
         "\n    budget: {daily: 5000}\n"
         "    controllers: [" +
         controller +
         "]\n"
         "guardrails: {" +
         guard + (review.empty() ? "" : ", review: " + review) + "}\n";
}

struct Outcome {
  double conversions = 0, spend = 0;
};
Outcome Totals(const Results& r) {
  const auto& conv = Col<int64_t>(r, "aggregates", "conversions");
  const auto& spend = Col<double>(r, "aggregates", "spend");
  return {static_cast<double>(std::accumulate(conv.begin(), conv.end(), int64_t{0})),
          std::accumulate(spend.begin(), spend.end(), 0.0)};
}

// Index of the only row of `table` whose `column` equals `value` (-1 if none, fails if several).
int OnlyRow(const Results& r, const std::string& table, const std::string& column, const std::string& value) {
  const auto& v = Col<std::string>(r, table, column);
  int found = -1;
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] == value) {
      EXPECT_EQ(found, -1) << "several rows with " << column << " = " << value;
      found = static_cast<int>(i);
    }
  return found;
}

// A valid scenario with `top` (a top-level line) and `campaigns` (list items).
std::string Minimal(const std::string& top, const std::string& campaigns) {
  return "seed: 1\nduration: 1h\n"
         "channels: [{name: display, traffic: {per_hour: 10}, competition: {competitors: 1, median: 0.002, sigma: "
         "0.5}}]\n"
         "segments: [{name: a, ctr: 0.01, cvr: 0.1}]\n" +
         top + "campaigns:\n" + campaigns;
}

TEST(Review, ScenarioFieldsAreReadAndCampaignsOverrideThem) {
  const Scenario sc = Parse(Minimal("guardrails: {review: {latency: 4h, rule: approve_below, max_change: 0.3}}\n",
                                    "  - {name: one, bid: 0.01}\n"
                                    "  - {name: two, bid: 0.01, guardrails: {review: {latency: 30m}}}\n"
                                    "  - {name: three, bid: 0.01, guardrails: {review: {rule: reject_all}}}\n"
                                    "  - {name: four, bid: 0.01, guardrails: {review: {rule: none}}}\n"));
  const ReviewSpec& one = sc.campaigns[0].guardrails.review;
  EXPECT_EQ(one.rule, ReviewRule::kApproveBelow);
  EXPECT_EQ(one.latency, 4 * kMicrosPerHour);
  EXPECT_DOUBLE_EQ(one.max_change, 0.3);
  const ReviewSpec& two = sc.campaigns[1].guardrails.review;
  EXPECT_EQ(two.rule, ReviewRule::kApproveBelow);  // inherited
  EXPECT_EQ(two.latency, 30 * kMicrosPerMinute);
  EXPECT_EQ(sc.campaigns[2].guardrails.review.rule, ReviewRule::kRejectAll);
  EXPECT_EQ(sc.campaigns[3].guardrails.review.rule, ReviewRule::kNone);
  // Without a review section: held forever, as before.
  const Scenario plain = Parse(Minimal("", "  - {name: one, bid: 0.01}\n"));
  EXPECT_EQ(plain.campaigns[0].guardrails.review.rule, ReviewRule::kNone);
  // A section without a rule approves everything.
  const Scenario bare = Parse(Minimal("", "  - {name: one, bid: 0.01, guardrails: {review: {latency: 1h}}}\n"));
  EXPECT_EQ(bare.campaigns[0].guardrails.review.rule, ReviewRule::kApproveAll);
}

TEST(Review, BadFieldsNameThePathAndWhatWasExpected) {
  auto issue = [](const std::string& review) {
    const auto issues = IssuesOf(Minimal("guardrails: {review: " + review + "}\n", "  - {name: one, bid: 0.01}\n"));
    EXPECT_EQ(issues.size(), 1u) << review;
    return issues.empty() ? ConfigIssue{} : issues[0];
  };
  ConfigIssue i = issue("{rule: approve_some}");
  EXPECT_EQ(i.path, "guardrails.review.rule");
  EXPECT_NE(i.expected.find("approve_all, approve_below, reject_all, none"), std::string::npos) << i.expected;
  EXPECT_EQ(i.line, 5);
  EXPECT_EQ(i.file, "bad.yaml");
  i = issue("{rule: approve_some, max_change: 0.2}");  // one issue: the rule, not max_change too
  EXPECT_EQ(i.path, "guardrails.review.rule");
  i = issue("{latency: soon}");
  EXPECT_EQ(i.path, "guardrails.review.latency");
  i = issue("{rule: approve_all, max_change: 0.2}");
  EXPECT_EQ(i.path, "guardrails.review.max_change");
  EXPECT_NE(i.expected.find("approve_below"), std::string::npos);
  i = issue("{rule: approve_below, max_change: -1}");
  EXPECT_EQ(i.path, "guardrails.review.max_change");
  i = issue("{delay: 1h}");
  EXPECT_EQ(i.path, "guardrails.review.delay");
  i = issue("approve_all");
  EXPECT_EQ(i.path, "guardrails.review");
}

TEST(Review, ApproveBelowMeasuresTheChangeFromTheValueWhenHeld) {
  ReviewSpec spec;
  spec.rule = ReviewRule::kApproveBelow;
  spec.max_change = 0.5;
  ReviewRequest q;
  q.kind = ActionKind::kSetDailyBudget;
  q.old_value = 100;
  q.current = 400;  // what it is now does not matter: the size is that of the request
  q.requested = 150;
  EXPECT_TRUE(ApplyReviewRule(spec, q).approve);  // |150 - 100| / 100 = 0.5
  q.requested = 151;
  EXPECT_FALSE(ApplyReviewRule(spec, q).approve);
  q.requested = 40;
  EXPECT_FALSE(ApplyReviewRule(spec, q).approve);  // -60%
  q.old_value = INFINITY;                          // an unset budget: no relative size
  q.requested = 100;
  EXPECT_FALSE(ApplyReviewRule(spec, q).approve);
  q.kind = ActionKind::kPauseCampaign;  // no size
  EXPECT_TRUE(ApplyReviewRule(spec, q).approve);
  spec.rule = ReviewRule::kRejectAll;
  EXPECT_FALSE(ApplyReviewRule(spec, q).approve);
  spec.rule = ReviewRule::kApproveAll;
  EXPECT_TRUE(ApplyReviewRule(spec, q).approve);
}

TEST(Review, WithoutAReviewerHeldActionsStayHeldAndNoTableIsAdded) {
  const Results r = RunScenario(Parse(ReviewScenario("", "{type: test_review_move}")));
  EXPECT_EQ(r.Find("reviews"), nullptr);
  const auto& status = Col<std::string>(r, "actions", "status");
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0], "held");
}

TEST(Review, WaitingForTheReviewerCostsConversionsAndSpend) {
  // The x4 bid (beneficial, see ReviewScenario) is held at t = 0 and approved
  // after 0, 6h or 12h, or rejected. Each run's reported conversions are
  // about Poisson, so the difference of two runs has a standard error of at
  // most sqrt(N1 + N2) (less: the runs share the market's random numbers).
  // Expected differences: 6h x ~42/h ~ 250 between successive latencies,
  // 3 standard errors ~ 3 x sqrt(2 x 900) ~ 130.
  const std::string move = "{type: test_review_move, params: {factor: 4}}";
  std::vector<Outcome> out;
  for (const std::string review : {"{latency: 0s, rule: approve_all}", "{latency: 6h, rule: approve_all}",
                                   "{latency: 12h, rule: approve_all}", "{latency: 6h, rule: reject_all}"}) {
    const Results r = RunScenario(Parse(ReviewScenario(review, move)));
    out.push_back(Totals(r));
    const int held = OnlyRow(r, "actions", "status", "held");
    ASSERT_EQ(held, 0);
    const int decided = review.find("reject") != std::string::npos ? OnlyRow(r, "actions", "status", "rejected")
                                                                   : OnlyRow(r, "actions", "status", "approved");
    ASSERT_EQ(decided, 1) << review;
    const SimTime latency = review.find("12h") != std::string::npos  ? 12 * kMicrosPerHour
                            : review.find("6h") != std::string::npos ? 6 * kMicrosPerHour
                                                                     : 0;
    EXPECT_EQ(Col<int64_t>(r, "actions", "time")[1], latency);
    EXPECT_EQ(Col<int64_t>(r, "reviews", "decided")[0], latency);
    EXPECT_EQ(Col<int64_t>(r, "reviews", "held_time")[0], 0);
    EXPECT_DOUBLE_EQ(Col<double>(r, "actions", "new")[1], review.find("reject") != std::string::npos ? 0.001 : 0.004);
  }
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    const double se = std::sqrt(out[i].conversions + out[i + 1].conversions);
    EXPECT_GT(out[i].conversions - out[i + 1].conversions, 3 * se)
        << "latency step " << i << ": " << out[i].conversions << " vs " << out[i + 1].conversions;
    EXPECT_GT(out[i].spend, out[i + 1].spend) << i;
  }
  // Rejected: the bid never moved, so it bought almost nothing (3e-5 of the auctions).
  EXPECT_LT(out[3].conversions, 0.05 * out[0].conversions);
}

TEST(Review, RejectingAMisfiringBigMoveKeepsTheRunAsIfItNeverHappened) {
  // A misfiring rule cuts the bid to a tenth at 2:00 (0.004 -> 0.0004: it
  // then wins nothing). Rejected, the run is exactly the run without the
  // move (same seed, same market draws); approved, it loses the conversions
  // of the remaining 22 hours; approve_below (max_change 0.5) blocks it too.
  // review_threshold 0.5: the -90% cut is held.
  auto scenario = [](const std::string& review, int at_cycle = 3) {
    return ReviewScenario(review,
                          "{type: test_review_move, params: {factor: 0.1, at_cycle: " + std::to_string(at_cycle) + "}}",
                          "max_change: 0.5, review_threshold: 0.5, max_bid: 1", "0.004");
  };
  const Results rejected = RunScenario(Parse(scenario("{latency: 1h, rule: reject_all}")));
  const Results below = RunScenario(Parse(scenario("{latency: 1h, rule: approve_below, max_change: 0.5}")));
  const Results approved = RunScenario(Parse(scenario("{latency: 1h, rule: approve_all}")));
  const Results untouched = RunScenario(Parse(scenario("", 999)));  // the move never comes
  EXPECT_EQ(Col<std::string>(rejected, "reviews", "decision")[0], "rejected");
  EXPECT_EQ(Col<std::string>(below, "reviews", "decision")[0], "rejected");
  EXPECT_EQ(Col<std::string>(approved, "reviews", "decision")[0], "approved");
  const Outcome r = Totals(rejected), b = Totals(below), a = Totals(approved), u = Totals(untouched);
  EXPECT_EQ(r.conversions, u.conversions);
  EXPECT_EQ(r.spend, u.spend);
  EXPECT_EQ(Col<int64_t>(rejected, "aggregates", "wins"), Col<int64_t>(untouched, "aggregates", "wins"));
  EXPECT_EQ(b.conversions, u.conversions);
  // ~42 conversions an hour for 21 hours are lost when approved: far beyond
  // 3 standard errors of the difference (3 x sqrt(r + a) ~ 100).
  EXPECT_GT(r.conversions - a.conversions, 3 * std::sqrt(r.conversions + a.conversions));
  EXPECT_GT(r.spend, a.spend);
}

TEST(Review, AnApprovedMoveSkipsTheStepLimitButNotTheAbsoluteBounds) {
  // x4 is beyond max_change 0.5 and review_threshold 1.0; once a person
  // approved it, the step limit no longer applies, but max_bid (0.003) does.
  const Results r = RunScenario(Parse(ReviewScenario("{latency: 2h}", "{type: test_review_move, params: {factor: 4}}",
                                                     "max_change: 0.5, review_threshold: 1.0, max_bid: 0.003")));
  const int row = OnlyRow(r, "actions", "status", "approved");
  ASSERT_GE(row, 0);
  EXPECT_DOUBLE_EQ(Col<double>(r, "actions", "new")[row], 0.003);
  EXPECT_NE(Col<std::string>(r, "actions", "note")[row].find("clamped by max_bid"), std::string::npos);
  EXPECT_DOUBLE_EQ(Col<double>(r, "reviews", "new")[0], 0.003);
}

TEST(Review, ANewerChangeWithdrawsAPendingReviewAndANewerRequestReplacesIt) {
  // Held at 0:00 with a 6h latency; the +10% move at 3:00 is applied, so the
  // stale request is withdrawn and never applied.
  {
    const Results r = RunScenario(
        Parse(ReviewScenario("{latency: 6h}", "{type: test_review_move, params: {factor: 4, small_at: 4}}")));
    EXPECT_EQ(Col<std::string>(r, "reviews", "decision")[0], "withdrawn");
    EXPECT_EQ(Col<int64_t>(r, "reviews", "decided")[0], 3 * kMicrosPerHour);
    EXPECT_EQ(OnlyRow(r, "actions", "status", "approved"), -1);
  }
  // Asked again every hour until 4:00: each request replaces the pending one
  // but keeps its due time, so the decision still comes at 6:00.
  {
    const Results r = RunScenario(
        Parse(ReviewScenario("{latency: 6h}", "{type: test_review_move, params: {factor: 4, until_cycle: 5}}")));
    const auto& decision = Col<std::string>(r, "reviews", "decision");
    ASSERT_EQ(decision.size(), 5u);
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(decision[i], "replaced") << i;
    EXPECT_EQ(decision[4], "approved");
    for (int64_t due : Col<int64_t>(r, "reviews", "due")) EXPECT_EQ(due, 6 * kMicrosPerHour);
    const int row = OnlyRow(r, "actions", "status", "approved");
    ASSERT_GE(row, 0);
    EXPECT_EQ(Col<int64_t>(r, "actions", "time")[row], 6 * kMicrosPerHour);
  }
}

TEST(Review, AReviewDueAfterTheEndStaysPending) {
  const Results r =
      RunScenario(Parse(ReviewScenario("{latency: 2d}", "{type: test_review_move, params: {ask_review: 1}}")));
  EXPECT_EQ(Col<std::string>(r, "reviews", "decision")[0], "pending");
  EXPECT_EQ(Col<int64_t>(r, "reviews", "decided")[0], -1);
  EXPECT_EQ(Col<int64_t>(r, "reviews", "due")[0], 2 * kMicrosPerDay);
  EXPECT_EQ(Col<std::string>(r, "actions", "status").size(), 1u);  // only the hold
}

TEST(Review, ADecisionDueAtACycleIsInForceForThatCycle) {
  // Held at 0:00, latency 1h: at 1:00 the decision (ordered before the
  // control cycle) applies 0.004, and the cycle's snapshot already shows it:
  // the +10% move of that cycle asks 0.0044, not 0.0011 (which would also
  // have withdrawn the pending review).
  const Results r =
      RunScenario(Parse(ReviewScenario("{latency: 1h}", "{type: test_review_move, params: {factor: 4, small_at: 2}}")));
  const auto& time = Col<int64_t>(r, "actions", "time");
  const auto& status = Col<std::string>(r, "actions", "status");
  ASSERT_EQ(status.size(), 3u);
  EXPECT_EQ(status[0], "held");
  EXPECT_EQ(status[1], "approved");
  EXPECT_EQ(time[1], kMicrosPerHour);
  EXPECT_EQ(status[2], "applied");
  EXPECT_EQ(time[2], kMicrosPerHour);
  EXPECT_EQ(Col<std::string>(r, "actions", "reason")[2], "small");
  EXPECT_DOUBLE_EQ(Col<double>(r, "actions", "requested")[2], 0.004 * 1.1);
  EXPECT_EQ(Col<std::string>(r, "reviews", "decision")[0], "approved");
}

TEST(Review, ACallbackDecidesInsteadOfTheRuleAndMayChangeTheValue) {
  RunOptions options;
  std::vector<ReviewRequest> seen;
  options.reviewer = [&seen](const ReviewRequest& q) {
    seen.push_back(q);
    ReviewDecision d;
    d.approve = true;
    d.value = q.old_value * 2;  // half of the x4 asked
    d.note = "halved";
    return d;
  };
  // No review section: the callback decides with latency 0.
  const Results r = RunScenario(Parse(ReviewScenario("", "{type: test_review_move, params: {factor: 4}}")), options);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].time, 0);
  EXPECT_EQ(seen[0].campaign_name, "one");
  EXPECT_EQ(seen[0].controller, "test_review_move");
  EXPECT_EQ(seen[0].reason, "big");
  EXPECT_DOUBLE_EQ(seen[0].old_value, 0.001);
  EXPECT_DOUBLE_EQ(seen[0].requested, 0.004);
  EXPECT_NE(seen[0].hold_note.find("review_threshold"), std::string::npos);
  const int row = OnlyRow(r, "actions", "status", "approved");
  ASSERT_GE(row, 0);
  EXPECT_DOUBLE_EQ(Col<double>(r, "actions", "new")[row], 0.002);
  EXPECT_NE(Col<std::string>(r, "actions", "note")[row].find("halved"), std::string::npos);
  // A callback that throws aborts the run with its message.
  options.reviewer = [](const ReviewRequest&) -> ReviewDecision { throw Error("reviewer is out"); };
  EXPECT_THROW(RunScenario(Parse(ReviewScenario("", "{type: test_review_move}")), options), Error);
}

TEST(Review, AnApprovedBudgetRaiseIsAppliedUpToTheCeilingNotHeldAgain) {
  // x3 of the daily budget is above review_budget_raise (2 x 5000) and within
  // max_budget_raise (4 x 5000): held, then approved 2h later and applied at
  // 15000. The same raise beyond the ceiling (x5) is approved but clamped to
  // 20000. Neither is held a second time by the review level.
  for (const double factor : {3.0, 5.0}) {
    const Results r = RunScenario(Parse(ReviewScenario(
        "{latency: 2h}", "{type: test_review_move, params: {budget: 1, factor: " + std::to_string(factor) + "}}",
        "max_change: 0.5, review_threshold: 10, max_bid: 1, max_budget_raise: 4, review_budget_raise: 2")));
    EXPECT_EQ(OnlyRow(r, "actions", "status", "held"), 0) << factor;
    const int row = OnlyRow(r, "actions", "status", "approved");
    ASSERT_GE(row, 0) << factor;
    EXPECT_EQ(Col<std::string>(r, "actions", "kind")[row], "set_daily_budget");
    EXPECT_EQ(Col<int64_t>(r, "actions", "time")[row], 2 * kMicrosPerHour);
    EXPECT_DOUBLE_EQ(Col<double>(r, "actions", "new")[row], std::min(factor, 4.0) * 5000) << factor;
  }
}

TEST(Review, HeldPausesAreDecidedToo) {
  // hold_pauses holds the pause asked at 2:00; approved 3h later, the
  // campaign wins nothing from 5:00 on (and won in every hour before).
  const Results r =
      RunScenario(Parse(ReviewScenario("{latency: 3h}", "{type: test_review_move, params: {pause: 1, at_cycle: 3}}",
                                       "max_bid: 1, hold_pauses: true", "0.004")));
  const int row = OnlyRow(r, "actions", "status", "approved");
  ASSERT_GE(row, 0);
  EXPECT_EQ(Col<std::string>(r, "actions", "kind")[row], "pause_campaign");
  EXPECT_EQ(Col<int64_t>(r, "actions", "time")[row], 5 * kMicrosPerHour);
  std::vector<int64_t> wins_per_hour(24, 0);
  const auto& bucket = Col<int64_t>(r, "aggregates", "bucket_start");
  const auto& wins = Col<int64_t>(r, "aggregates", "wins");
  for (size_t i = 0; i < bucket.size(); ++i) wins_per_hour[bucket[i] / kMicrosPerHour] += wins[i];
  for (int h = 0; h < 24; ++h) {
    if (h < 5)
      EXPECT_GT(wins_per_hour[h], 0) << h;
    else
      EXPECT_EQ(wins_per_hour[h], 0) << h;
  }
}

}  // namespace
}  // namespace adsim
