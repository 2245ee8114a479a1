// Experiments analysed by user: the pre-period (every user on the control
// before the experiment's start), the engine's per-user counters, the
// delta-method comparison of ratio metrics over users and CUPED, and ab_test
// with unit: user.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "core/engine.h"
#include "core/registry.h"
#include "core/summary.h"
#include "strategies/experiments/lib/user_metric.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;

// What the probe analysis saw at each cycle it ran.
struct ProbeCall {
  SimTime time = 0;
  ExperimentData data;
  std::vector<ObservedStats> arm_total;  // each arm campaign's counters since t = 0
};
std::vector<ProbeCall>& ProbeCalls() {
  static std::vector<ProbeCall> calls;
  return calls;
}

// Keeps a copy of what the engine hands to an analysis that asks for users.
class UserProbe final : public ExperimentAnalysis {
 public:
  void OnCycle(const Snapshot& snap, const ExperimentData& data, std::vector<ExperimentLook>*,
               std::vector<Action>*) override {
    ProbeCall c{snap.time, data, {}};
    for (size_t k = 0; k < data.since_start.size(); ++k)
      c.arm_total.push_back(snap.CampaignTotal(snap.total, static_cast<int>(k)));
    ProbeCalls().push_back(std::move(c));
  }
  bool WantsUserCounts() const override { return true; }
};
const Registration kUserProbe({.name = "test_user_probe",
                               .kind = ComponentKind::kAnalysis,
                               .description = "test: records ExperimentData",
                               .params = {},
                               .campaign_scoped = false,
                               .origin = "C++",
                               .make_analysis = [](const BuildContext&) -> std::unique_ptr<ExperimentAnalysis> {
                                 return std::make_unique<UserProbe>();
                               }});

// One channel, one segment of `users` users with a per-user click propensity
// (lognormal, sigma 1), two campaigns that are the experiment's arms.
std::string UserScenario(const std::string& experiment, const std::string& treat_creative = "",
                         const std::string& duration = "8h", int users = 3000) {
  return "name: ab_users\nseed: 9\nstart: '2026-03-02T00:00:00'\nduration: " + duration +
         "\nbucket: 1h\ncontrol_cycle: 15m\n"
         "channels:\n"
         "  - {name: display, auction: second_price, traffic: {per_hour: 30000},\n"
         "     competition: {competitors: 5, median: 0.002, sigma: 0.6}}\n"
         "segments:\n"
         "  - {name: a, users: " +
         std::to_string(users) +
         ", ctr: 0.03, cvr: 0.1, propensity_sigma: 1.0,\n"
         "     conversion_delay: {distribution: exponential, mean: 30m}" +
         treat_creative +
         "}\n"
         "campaigns:\n"
         "  - {name: control, bid: 0.004, creatives: [x]}\n"
         "  - {name: treat, bid: 0.004, creatives: [x]}\n"
         "experiments:\n" +
         experiment;
}

int64_t SumBefore(const Results& r, const std::string& col, int campaign, SimTime before) {
  const auto& b = Col<int64_t>(r, "aggregates", "bucket_start");
  const auto& c = Col<int64_t>(r, "aggregates", "campaign");
  const auto& v = Col<int64_t>(r, "aggregates", col);
  int64_t s = 0;
  for (size_t i = 0; i < v.size(); ++i)
    if (c[i] == campaign && b[i] < before) s += v[i];
  return s;
}

TEST(ExperimentUsers, PrePeriodRunsOnTheControlAndTheUserCountersAddUpToTheArms) {
  ProbeCalls().clear();
  const SimTime start = 2 * kMicrosPerHour;
  const Results r = RunScenario(test::Parse(UserScenario(
      "  - {name: e, arms: [control, treat], split: user, start: 2h, analyses: [{type: test_user_probe}]}\n")));
  // Before the start the control gets every opportunity and the treatment none.
  EXPECT_EQ(SumBefore(r, "opportunities", 1, start), 0);
  const auto& mb = Col<int64_t>(r, "market", "bucket_start");
  const auto& mo = Col<int64_t>(r, "market", "opportunities");
  int64_t market_pre = 0;
  for (size_t i = 0; i < mb.size(); ++i) market_pre += mb[i] < start ? mo[i] : 0;
  EXPECT_EQ(SumBefore(r, "opportunities", 0, start), market_pre);
  // Analyses run from the first cycle after the start on.
  ASSERT_FALSE(ProbeCalls().empty());
  EXPECT_EQ(ProbeCalls().front().time, start + 15 * kMicrosPerMinute);
  for (const ProbeCall& call : ProbeCalls()) {
    const ExperimentData& d = call.data;
    ASSERT_TRUE(d.users_kept);
    ASSERT_EQ(d.pre.size(), 3000u);
    // The pre-period rows are the control's counters before the start.
    int64_t pre_req = 0, pre_imp = 0, pre_clk = 0, pre_conv = 0;
    for (const UserCounts& u : d.pre) pre_req += u.requests, pre_imp += u.impressions, pre_clk += u.clicks;
    for (const UserCounts& u : d.pre) pre_conv += u.conversions;
    EXPECT_EQ(pre_req, SumBefore(r, "opportunities", 0, start));
    EXPECT_EQ(pre_imp, SumBefore(r, "impressions", 0, start));
    EXPECT_EQ(pre_clk, SumBefore(r, "clicks", 0, start));
    for (size_t k = 0; k < 2; ++k) {
      const ObservedStats& s = d.since_start[k];
      int64_t req = 0, imp = 0, clk = 0, conv = 0;
      double value = 0;
      for (const UserCounts& u : d.arm[k]) {
        req += u.requests, imp += u.impressions, clk += u.clicks, conv += u.conversions;
        value += u.conversion_value;
      }
      EXPECT_EQ(req, s.requests) << k;
      EXPECT_EQ(imp, s.impressions) << k;
      EXPECT_EQ(clk, s.clicks) << k;
      // Conversions of pre-period clicks reported later stay in the pre-period.
      EXPECT_EQ(conv, s.conversions) << k;
      EXPECT_NEAR(value, s.conversion_value, 1e-3 * (1 + s.conversion_value)) << k;
      EXPECT_EQ(s.conversions + (k == 0 ? pre_conv : 0), call.arm_total[k].conversions) << k;
      // The exposed list is exactly the rows with an in-period request, once each.
      std::set<int64_t> rows(d.exposed[k].begin(), d.exposed[k].end());
      EXPECT_EQ(rows.size(), d.exposed[k].size());
      int64_t with_requests = 0;
      for (const UserCounts& u : d.arm[k]) with_requests += u.requests > 0;
      EXPECT_EQ(static_cast<int64_t>(rows.size()), with_requests);
      for (int64_t row : rows) EXPECT_GT(d.arm[k][row].requests, 0);
    }
    // Under split: user no user has requests in both arms.
    for (size_t row = 0; row < d.pre.size(); ++row)
      ASSERT_FALSE(d.arm[0][row].requests > 0 && d.arm[1][row].requests > 0);
  }
  // Both arms see about half of the users (binomial, 4 SE).
  const ExperimentData& last = ProbeCalls().back().data;
  const double n0 = static_cast<double>(last.exposed[0].size()), n1 = static_cast<double>(last.exposed[1].size());
  EXPECT_NEAR(n0 / (n0 + n1), 0.5, 4 * std::sqrt(0.25 / (n0 + n1)));
  // Pre-period conversions reported after the start are real: with a 30 min
  // mean delay some are still due at the start.
  int64_t pre_conv = 0;
  for (const UserCounts& u : last.pre) pre_conv += u.conversions;
  EXPECT_GT(pre_conv, SumBefore(r, "conversions", 0, start));
}

TEST(ExperimentUsers, RequestLevelAnalysesCountOnlyTheExperimentPeriod) {
  const Results r = RunScenario(test::Parse(
      UserScenario("  - {name: e, arms: [control, treat], split: opportunity, start: 4h,\n"
                   "     analyses: [{type: ab_test, params: {metric: ctr, method: naive, looks: 0, decision: observe, "
                   "min_trials: 100}}]}\n")));
  const auto& t = Col<int64_t>(r, "experiment_looks", "time");
  const auto& cn = Col<int64_t>(r, "experiment_looks", "control_n");
  const auto& an = Col<int64_t>(r, "experiment_looks", "arm_n");
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t.front(), 4 * kMicrosPerHour + 15 * kMicrosPerMinute);
  EXPECT_EQ(Col<std::string>(r, "experiment_looks", "unit").front(), "request");
  // Without the pre-period the control would have about 4x the treatment's
  // impressions; since the start they split evenly (binomial, 4 SE).
  for (size_t i = 0; i < cn.size(); ++i) {
    const double n = static_cast<double>(cn[i] + an[i]);
    EXPECT_NEAR(static_cast<double>(cn[i]) / n, 0.5, 4 * std::sqrt(0.25 / n)) << i;
  }
}

// Builds an ExperimentData of two arms from per-user (pre, in) counters.
struct Synthetic {
  ExperimentData data;
  void Add(int arm, const UserCounts& pre, const UserCounts& in) {
    const int64_t row = static_cast<int64_t>(data.pre.size());
    data.pre.push_back(pre);
    for (int k = 0; k < 2; ++k) data.arm[k].push_back(k == arm ? in : UserCounts{});
    if (in.requests > 0) data.exposed[arm].push_back(row);
  }
  Synthetic() {
    data.users_kept = true;
    data.arm.resize(2);
    data.exposed.resize(2);
  }
};

// Users with a lognormal propensity p_u: impressions ~ Poisson(imps), clicks
// ~ Binomial(impressions, ctr p_u) in both periods (the same p_u), and the
// treatment multiplying the in-period click rate by 1 + lift.
Synthetic MakeUsers(std::mt19937_64& rng, int users, double imps, double ctr, double lift) {
  Synthetic s;
  std::normal_distribution<double> normal(0, 1);
  std::poisson_distribution<int> impressions(imps);
  for (int u = 0; u < users; ++u) {
    const int arm = u % 2;
    const double p = std::min(1.0, ctr * std::exp(normal(rng) - 0.5));
    auto period = [&](double mult) {
      UserCounts c;
      c.impressions = impressions(rng);
      c.requests = c.impressions + 1;
      c.clicks = std::binomial_distribution<int>(c.impressions, std::min(1.0, p * mult))(rng);
      return c;
    };
    const UserCounts pre = period(1.0);
    s.Add(arm, pre, period(arm == 1 ? 1 + lift : 1.0));
  }
  return s;
}

TEST(UserMetric, PerUserMeansGiveTheTextbookVarianceAndCupedTheOlsSlope) {
  std::mt19937_64 rng(2026);
  const Synthetic s = MakeUsers(rng, 4000, 20, 0.05, 0.0);
  experiments::ArmSample c, a;
  experiments::CollectArm(s.data, 0, experiments::UserMetric::kClicksPerUser, &c);
  experiments::CollectArm(s.data, 1, experiments::UserMetric::kClicksPerUser, &a);
  ASSERT_EQ(c.users, 2000);
  ASSERT_EQ(a.users, 2000);
  // Independent computation: per-user clicks y and pre-period clicks x.
  std::vector<double> y[2], x[2];
  for (int k = 0; k < 2; ++k)
    for (int64_t row : s.data.exposed[k]) {
      y[k].push_back(s.data.arm[k][row].clicks);
      x[k].push_back(s.data.pre[row].clicks);
    }
  auto mean = [](const std::vector<double>& v) {
    double m = 0;
    for (double e : v) m += e;
    return m / static_cast<double>(v.size());
  };
  auto cov = [&](const std::vector<double>& u, const std::vector<double>& v) {
    const double mu = mean(u), mv = mean(v);
    double sum = 0;
    for (size_t i = 0; i < u.size(); ++i) sum += (u[i] - mu) * (v[i] - mv);
    return sum / static_cast<double>(u.size() - 1);
  };
  const experiments::UserComparison plain = experiments::CompareArms(c, a, false);
  EXPECT_NEAR(plain.diff, mean(y[1]) - mean(y[0]), 1e-12);
  EXPECT_NEAR(plain.var, cov(y[0], y[0]) / 2000 + cov(y[1], y[1]) / 2000, 1e-12);
  const experiments::UserComparison cup = experiments::CompareArms(c, a, true);
  ASSERT_TRUE(cup.cuped_applied);
  // theta: the within-arm pooled OLS slope of y on x.
  const double theta = (cov(y[0], x[0]) + cov(y[1], x[1])) / (cov(x[0], x[0]) + cov(x[1], x[1]));
  EXPECT_NEAR(cup.theta, theta, 1e-9);
  EXPECT_NEAR(cup.diff, plain.diff - theta * (mean(x[1]) - mean(x[0])), 1e-12);
  // var(y - theta x) = var(y) (1 - rho^2) when theta is the slope.
  const double rho2 = theta * theta * cov(x[0], x[0]) / cov(y[0], y[0]);
  EXPECT_LT(cup.var, 0.8 * plain.var);
  EXPECT_NEAR(cup.var / plain.var, 1 - rho2, 0.05);
}

TEST(UserMetric, DeltaMethodAndCupedVariancesMatchTheSpreadOverReplicates) {
  // 400 A/A replicates of 3,000 users, metric ctr (a ratio of per-user sums).
  // The spread of the estimate over replicates must match the variance the
  // comparison reports, with and without CUPED, and CUPED must be unbiased.
  // The sample variance of R = 400 values has relative SE sqrt(2 / 399) =
  // 0.071, so 4 SE is 0.28.
  std::mt19937_64 rng(7);
  const int reps = 400;
  std::vector<double> plain_d, cuped_d;
  double plain_v = 0, cuped_v = 0;
  for (int i = 0; i < reps; ++i) {
    const Synthetic s = MakeUsers(rng, 3000, 15, 0.05, 0.0);
    experiments::ArmSample c, a;
    experiments::CollectArm(s.data, 0, experiments::UserMetric::kCtr, &c);
    experiments::CollectArm(s.data, 1, experiments::UserMetric::kCtr, &a);
    const auto p = experiments::CompareArms(c, a, false), q = experiments::CompareArms(c, a, true);
    plain_d.push_back(p.diff), cuped_d.push_back(q.diff);
    plain_v += p.var / reps, cuped_v += q.var / reps;
  }
  auto var = [](const std::vector<double>& v, double* m) {
    *m = 0;
    for (double e : v) *m += e / static_cast<double>(v.size());
    double s = 0;
    for (double e : v) s += (e - *m) * (e - *m);
    return s / static_cast<double>(v.size() - 1);
  };
  double mp, mc;
  const double vp = var(plain_d, &mp), vc = var(cuped_d, &mc);
  EXPECT_NEAR(vp / plain_v, 1.0, 0.28);
  EXPECT_NEAR(vc / cuped_v, 1.0, 0.28);
  EXPECT_NEAR(mc, 0.0, 4 * std::sqrt(vc / reps));
  EXPECT_NEAR(mp, 0.0, 4 * std::sqrt(vp / reps));
  // The reduction is real (same data): about 1 - rho^2 with rho^2 near 0.35 here.
  EXPECT_LT(vc, 0.8 * vp);
}

TEST(ExperimentUsers, AbTestByUserWithCupedShipsTheBetterArm) {
  const std::string exp =
      "  - {name: e, arms: [control, treat], split: user, start: 6h,\n"
      "     analyses: [{type: ab_test, params: {metric: ctr, method: ld_obf, mde: 0.2, min_trials: 500}},\n"
      "                {type: ab_test, label: plain, params: {metric: ctr, method: ld_obf, mde: 0.2, cuped: off, "
      "min_trials: 500, decision: observe}}]}\n";
  const Results r = RunScenario(test::Parse(UserScenario(exp, ", creatives: {treat/x: {ctr: 0.045}}", "2d")));
  const auto& analysis = Col<std::string>(r, "experiment_looks", "analysis");
  const auto& decision = Col<std::string>(r, "experiment_looks", "decision");
  const auto& unit = Col<std::string>(r, "experiment_looks", "unit");
  const auto& ratio = Col<double>(r, "experiment_looks", "variance_ratio");
  const auto& cn = Col<int64_t>(r, "experiment_looks", "control_n");
  bool shipped = false;
  for (size_t i = 0; i < analysis.size(); ++i) {
    EXPECT_EQ(unit[i], "user");
    EXPECT_LE(cn[i], 3000);  // users, not impressions
    if (analysis[i] == "ab_test") {
      EXPECT_LT(ratio[i], 0.95) << i;  // CUPED applied (a 6 h pre-period, sigma 1 propensities)
      shipped |= decision[i] == "ship";
    } else {
      EXPECT_EQ(ratio[i], 1.0);
    }
  }
  EXPECT_TRUE(shipped);
  // The summary shows the unit and CUPED's variance ratio of each analysis's last look.
  const std::string summary = FormatSummary(r);
  EXPECT_NE(summary.find("var_ratio"), std::string::npos) << summary;
  EXPECT_NE(summary.find(" user "), std::string::npos) << summary;
  const int act = [&] {
    const auto& kind = Col<std::string>(r, "actions", "kind");
    for (size_t i = 0; i < kind.size(); ++i)
      if (kind[i] == "pause_campaign") return static_cast<int>(i);
    return -1;
  }();
  ASSERT_GE(act, 0);
  EXPECT_EQ(Col<int64_t>(r, "actions", "campaign")[act], 0);
}

TEST(ExperimentUsersErrors, EveryProblemNamesItsField) {
  auto error_path = [](const std::string& text) -> std::string {
    try {
      RunScenario(test::Parse(text));
    } catch (const ConfigError& e) {
      return e.issues().empty() ? "" : e.issues()[0].path;
    }
    return "no error";
  };
  auto exp = [](const std::string& split, const std::string& start, const std::string& params) {
    return "  - {name: e, arms: [control, treat], split: " + split + ", start: " + start +
           ", analyses: [{type: ab_test, params: {" + params + "}}]}\n";
  };
  EXPECT_EQ(error_path(UserScenario(exp("user", "0s", "cuped: on"))), "experiments[0].analyses[0].params.cuped");
  EXPECT_EQ(error_path(UserScenario(exp("opportunity", "2h", "unit: user"))), "experiments[0].analyses[0].params.unit");
  EXPECT_EQ(error_path(UserScenario(exp("opportunity", "2h", "metric: clicks_per_user"))),
            "experiments[0].analyses[0].params.metric");
  EXPECT_EQ(error_path(UserScenario(exp("opportunity", "2h", "unit: request, cuped: on"))),
            "experiments[0].analyses[0].params.cuped");
  // An analysis that needs users under split: opportunity.
  EXPECT_EQ(error_path(UserScenario(
                "  - {name: e, arms: [control, treat], split: opportunity, analyses: [{type: test_user_probe}]}\n")),
            "experiments[0].analyses[0]");
  auto issues = test::IssuesOf(UserScenario(exp("user", "10m", "")));  // not a multiple of the 15m cycle
  ASSERT_FALSE(issues.empty());
  EXPECT_EQ(issues[0].path, "experiments[0].start");
  issues = test::IssuesOf(UserScenario(exp("user", "8h", "")));  // the end of the run
  ASSERT_FALSE(issues.empty());
  EXPECT_EQ(issues[0].path, "experiments[0].start");
}

}  // namespace
}  // namespace adsim
