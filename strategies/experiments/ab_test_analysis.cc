// ab_test: the analysis of an A/B(/n) experiment whose arms are campaigns
// (docs/strategies/experiments/ab_test.md). Each control cycle from the experiment's start
// it reads the arms' observed counters since the start (reported conversions
// only), by request or by user, looks when the plan says so, and decides: ship
// a winner (pause every other arm), stop a loser (pause it), or no difference
// at the planned sample size. Decisions are actions, so the guardrails
// (hold_pauses) and `decision: review` can hold them.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/normal.h"
#include "core/registry.h"
#include "strategies/experiments/lib/arm_metric.h"
#include "strategies/experiments/lib/stats.h"
#include "strategies/experiments/lib/user_metric.h"

namespace adsim::experiments {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kMaxDesignLooks = 50;  // looks of obf, pocock, ld_obf, ld_pocock

enum class Method { kFixed, kNaive, kObf, kPocock, kLdObf, kLdPocock, kMsprt, kBayes };

Method ParseMethod(const std::string& m) {
  if (m == "fixed") return Method::kFixed;
  if (m == "naive") return Method::kNaive;
  if (m == "obf") return Method::kObf;
  if (m == "pocock") return Method::kPocock;
  if (m == "ld_obf") return Method::kLdObf;
  if (m == "ld_pocock") return Method::kLdPocock;
  if (m == "msprt") return Method::kMsprt;
  return Method::kBayes;
}

struct Counts {
  int64_t n = 0, x = 0;
  double spend = 0;
  int64_t conversions = 0, clicks = 0, impressions = 0;
  double sum = 0, sumsq = 0;  // value metrics: per-trial values (0 without a conversion)
};

// One treatment arm against the control at a cycle, by request or by user.
struct Comparison {
  int64_t control_n = 0, control_x = 0, arm_n = 0, arm_x = 0;  // trials (users: unit user), successes
  double control_value = 0, arm_value = 0;                     // the metric per arm
  double diff = 0, var = 0;   // arm - control (CUPED-adjusted) and its (unpooled) variance
  double statistic = 0;       // z: pooled for two proportions, else diff / sqrt(var)
  double variance_ratio = 1;  // CUPED: var / unadjusted var
  double sd_control = 0;      // per-unit sd of the control (planning a mean)
  bool proportions = false;   // two proportions: Bayes with Beta posteriors
};

// Mean and unbiased per-trial variance of a value metric.
void MeanVar(const Counts& c, double* mean, double* var) {
  const double n = static_cast<double>(std::max<int64_t>(c.n, 2));
  *mean = c.sum / n;
  *var = std::max(c.sumsq / n - *mean * *mean, 0.0) * n / (n - 1);
}

class AbTest final : public ExperimentAnalysis {
 public:
  explicit AbTest(const BuildContext& ctx)
      : spec_(experiments::ExperimentOf(ctx)),
        metric_(ctx.params.String("metric")),
        method_(ParseMethod(ctx.params.String("method"))),
        alpha_(ctx.params.Number("alpha")),
        power_(ctx.params.Number("power")),
        mde_(ctx.params.Number("mde")),
        baseline_(ctx.params.Number("baseline_rate")),
        looks_planned_(static_cast<int>(ctx.params.Number("looks"))),
        min_trials_(static_cast<int64_t>(ctx.params.Number("min_trials"))),
        horizon_factor_(ctx.params.Number("horizon_factor")),
        prob_threshold_(ctx.params.Number("prob_threshold")),
        loss_threshold_(ctx.params.Number("loss_threshold")),
        decision_(ctx.params.String("decision")),
        keep_control_(ctx.params.String("at_horizon") == "keep_control"),
        guard_metrics_(GuardrailMetrics(ctx)),
        guard_max_(ctx.params.Number("guardrail_max_increase")),
        guard_min_conv_(static_cast<int64_t>(ctx.params.Number("guardrail_min_conversions"))) {
    const int treatments = static_cast<int>(spec_.arms.size()) - 1;
    arm_alpha_ = alpha_ / treatments;  // Bonferroni over the treatment arms
    arms_.resize(spec_.arms.size());
    mean_ = metric_ == "value_per_request";
    const std::string unit = ctx.params.String("unit"), cuped = ctx.params.String("cuped");
    by_user_ = unit == "user" || (unit == "auto" && spec_.split_by_user);
    auto fail = [&](const std::string& field, const std::string& expected, const std::string& got) {
      throw ConfigError({{ctx.scenario->source_name, ctx.where + ".params." + field, 0, expected, got}});
    };
    // No sample size reaches a power at or below the level: the plan, made
    // days into the run, would fail then. Say so now.
    if (!(power_ > arm_alpha_))
      fail("power",
           "more than the level per treatment arm (alpha / " + std::to_string(treatments) + " = " +
               experiments::Fmt(arm_alpha_) + ")",
           experiments::Fmt(power_));
    // Group-sequential boundaries are found by numerical integration whose
    // cost grows with the looks: 200 looks take seconds, 1000 fail to converge.
    const bool designed = method_ == Method::kObf || method_ == Method::kPocock || method_ == Method::kLdObf ||
                          method_ == Method::kLdPocock;
    if (designed && looks_planned_ > kMaxDesignLooks)
      fail("looks", "at most " + std::to_string(kMaxDesignLooks) + " with method " + ctx.params.String("method"),
           std::to_string(looks_planned_));
    if (by_user_ && !spec_.split_by_user)
      fail("unit", "unit: request (or auto) under split: opportunity", "unit: user (a user sees several arms)");
    if (!by_user_ && experiments::IsPerUserMetric(metric_))
      fail("metric", "a per-request metric, or unit: user (split: user)", metric_ + " analysed by request");
    if (cuped == "on" && !by_user_) fail("cuped", "unit: user (CUPED adjusts per-user metrics)", "unit: request");
    if (cuped == "on" && spec_.start == 0)
      fail("cuped", "a pre-period: the experiment's start after 0 (experiments[i].start)", "start 0");
    cuped_ = by_user_ && spec_.start > 0 && cuped != "off";
    experiments::ParseUserMetric(metric_, &user_metric_);
    if (baseline_ > 0 && !mean_ && !by_user_) Plan(baseline_);
  }

  bool WantsUserCounts() const override { return by_user_; }

  void OnCycle(const Snapshot& snap, const ExperimentData& data, std::vector<ExperimentLook>* looks,
               std::vector<Action>* actions) override {
    if (finished_) return;
    std::vector<Counts> c(spec_.arms.size());
    for (size_t k = 0; k < spec_.arms.size(); ++k) c[k] = CountsOf(data.since_start[k]);
    if (by_user_) {
      samples_.resize(spec_.arms.size());
      for (size_t k = 0; k < spec_.arms.size(); ++k)
        experiments::CollectArm(data, static_cast<int>(k), user_metric_, &samples_[k]);
    }
    if (n_max_ == 0) {  // plan from the control's observed data once it has min_trials trials (users)
      if (by_user_) {
        if (samples_[0].users < min_trials_ || samples_[1].users < 2 || !(samples_[0].y > 0)) return;
        const Comparison q = Compare(c, 1);
        if (!(q.sd_control > 0)) return;
        Plan(baseline_ > 0 ? baseline_ : q.control_value, q.sd_control);
        var_target_ = 2 * q.sd_control * q.sd_control / static_cast<double>(n_max_);
      } else if (c[0].n < min_trials_ || c[0].x == 0) {
        return;
      } else if (mean_) {
        double m, v;
        MeanVar(c[0], &m, &v);
        Plan(m, std::sqrt(v));
      } else {
        Plan(static_cast<double>(c[0].x) / static_cast<double>(c[0].n));
      }
    }
    bool any_open = false;
    for (size_t k = 1; k < spec_.arms.size(); ++k) {
      ArmState& a = arms_[k];
      if (a.done) continue;
      if (snap.campaigns[spec_.arms[k]].paused || snap.campaigns[spec_.arms[0]].paused) {
        a.done = true;  // paused by someone else (or the control shipped away): nothing to compare
        continue;
      }
      any_open = true;
      const Comparison q = Compare(c, k);
      if (GuardrailBreached(c[0], c[k], q, a, looks, k, actions)) continue;
      if (std::min(q.control_n, q.arm_n) < min_trials_) continue;
      Look(q, a, k, looks, actions);
    }
    finished_ = !any_open;
  }

 private:
  struct ArmState {
    bool done = false;
    int looks = 0;
    std::vector<double> fractions, boundaries;  // spending designs: what was used so far
    stats::MixtureSprt msprt{1.0, 0.05};
    bool msprt_ready = false;
  };

  // sd > 0: a value metric with that per-trial standard deviation.
  void Plan(double baseline, double sd = 0) {
    baseline_used_ = baseline;
    const double delta = baseline * mde_;
    const int64_t n_fixed = sd > 0 ? stats::SampleSizeMeans(sd, delta, arm_alpha_, power_)
                                   : stats::SampleSizeProportions(baseline, delta, arm_alpha_, power_);
    const int k = std::max(1, looks_planned_);
    double inflation = 1.0;
    if (method_ == Method::kObf || method_ == Method::kPocock) {
      design_ = stats::ClassicalDesign(
          method_ == Method::kObf ? stats::BoundaryShape::kOBrienFleming : stats::BoundaryShape::kPocock,
          stats::EqualFractions(k), arm_alpha_);
      inflation = stats::InflationFactor(design_, power_);
    } else if (method_ == Method::kLdObf || method_ == Method::kLdPocock) {
      design_ = stats::SpendingDesign(spending(), stats::EqualFractions(k), arm_alpha_);
      inflation = stats::InflationFactor(design_, power_);
    }
    n_max_ = static_cast<int64_t>(std::ceil(static_cast<double>(n_fixed) * inflation * horizon_factor_));
    tau_ = delta;
  }

  stats::SpendingFunction spending() const {
    return method_ == Method::kLdObf ? stats::SpendingFunction::kOBrienFleming : stats::SpendingFunction::kPocock;
  }

  Counts CountsOf(const ObservedStats& s) const {
    Counts c;
    c.spend = s.spend;
    c.conversions = s.conversions;
    c.clicks = s.clicks;
    c.impressions = s.impressions;
    if (!experiments::IsPerUserMetric(metric_))
      experiments::RateCounts(metric_ == "value_per_request" ? "conversions_per_request" : metric_, s, &c.n, &c.x);
    if (mean_) c.sum = s.conversion_value, c.sumsq = s.conversion_value_sq;
    return c;
  }

  // The guardrail metrics: "none", or cpa, cpc and cpm separated by commas.
  static std::vector<std::string> GuardrailMetrics(const BuildContext& ctx) {
    const std::string text = ctx.params.String("guardrail_metric");
    std::vector<std::string> out;
    size_t from = 0;
    while (from <= text.size()) {
      size_t to = text.find(',', from);
      if (to == std::string::npos) to = text.size();
      std::string m = text.substr(from, to - from);
      m.erase(0, m.find_first_not_of(' '));
      m.erase(m.find_last_not_of(' ') + 1);
      if (m != "none" || text.find(',') != std::string::npos) {
        if (m != "cpa" && m != "cpc" && m != "cpm")
          throw ConfigError(
              {{ctx.scenario->source_name, ctx.where + ".params.guardrail_metric", 0,
                "none, or one or more of cpa, cpc, cpm separated by commas (e.g. 'cpa, cpm')", "'" + text + "'"}});
        out.push_back(m);
      }
      from = to + 1;
    }
    return out;
  }

  // Guardrail metrics of the arm against the control: costs per unit that
  // may not rise by more than guard_max_ (relative) once both have evidence.
  bool GuardrailBreached(const Counts& ctl, const Counts& arm, const Comparison& q, ArmState& a,
                         std::vector<ExperimentLook>* looks, size_t k, std::vector<Action>* actions) {
    for (const std::string& metric : guard_metrics_) {
      auto cost = [&](const Counts& c, int64_t* units) {
        *units = metric == "cpa" ? c.conversions : metric == "cpc" ? c.clicks : c.impressions;
        const double per = metric == "cpm" ? 1000.0 : 1.0;
        return *units > 0 ? per * c.spend / static_cast<double>(*units) : kInf;
      };
      int64_t uc = 0, ua = 0;
      const double cc = cost(ctl, &uc), ca = cost(arm, &ua);
      const int64_t need = metric == "cpa" ? guard_min_conv_ : 100 * guard_min_conv_;
      if (uc < need || ua < need || !(ca > cc * (1 + guard_max_))) continue;
      ExperimentLook l = Base(q, k);
      l.look = a.looks;
      l.decision = "guardrail_stop";
      l.note = metric + " " + experiments::Fmt(ca) + " vs control " + experiments::Fmt(cc) + ": above +" +
               experiments::Fmt(100 * guard_max_) + "%";
      looks->push_back(l);
      // The arm's cost per unit against the most the guardrail allows.
      Decide(-1, k, l.note, {metric + "_arm", ca, cc * (1 + guard_max_)}, actions);
      a.done = true;
      return true;
    }
    return false;
  }

  // Arm k against the control: by user (delta method, CUPED) or from the
  // arms' counters (two proportions, or Welch for value_per_request).
  Comparison Compare(const std::vector<Counts>& c, size_t k) const {
    Comparison q;
    if (by_user_) {
      const experiments::ArmSample &sc = samples_[0], &sa = samples_[k];
      const experiments::UserComparison u = experiments::CompareArms(sc, sa, cuped_);
      q.control_n = sc.users, q.arm_n = sa.users;
      q.control_x = std::llround(sc.y), q.arm_x = std::llround(sa.y);
      q.control_value = u.control, q.arm_value = u.arm;
      q.diff = u.diff, q.var = u.var;
      q.variance_ratio = u.var_unadjusted > 0 ? u.var / u.var_unadjusted : 1.0;
      q.sd_control = u.sd_control;
      q.statistic = q.var > 0 ? q.diff / std::sqrt(q.var) : 0.0;
      return q;
    }
    const Counts &ctl = c[0], &arm = c[k];
    q.control_n = ctl.n, q.control_x = ctl.x, q.arm_n = arm.n, q.arm_x = arm.x;
    if (mean_) {  // Welch
      double va, vb;
      MeanVar(ctl, &q.control_value, &va);
      MeanVar(arm, &q.arm_value, &vb);
      q.var =
          va / static_cast<double>(std::max<int64_t>(ctl.n, 1)) + vb / static_cast<double>(std::max<int64_t>(arm.n, 1));
      q.diff = q.arm_value - q.control_value;
      q.sd_control = std::sqrt(va);
      q.statistic = q.var > 0 ? q.diff / std::sqrt(q.var) : 0.0;
      return q;
    }
    q.proportions = true;
    const double nc = static_cast<double>(std::max<int64_t>(ctl.n, 1));
    const double na = static_cast<double>(std::max<int64_t>(arm.n, 1));
    q.control_value = static_cast<double>(ctl.x) / nc;
    q.arm_value = static_cast<double>(arm.x) / na;
    q.diff = q.arm_value - q.control_value;
    q.var = q.control_value * (1 - q.control_value) / nc + q.arm_value * (1 - q.arm_value) / na;
    const double pool = static_cast<double>(ctl.x + arm.x) / (nc + na);
    const double se = std::sqrt(pool * (1 - pool) * (1.0 / nc + 1.0 / na));
    q.statistic = se > 0 ? q.diff / se : 0.0;
    return q;
  }

  ExperimentLook Base(const Comparison& q, size_t k) const {
    ExperimentLook l;
    l.arm = static_cast<int>(k);
    l.metric = metric_;
    l.unit = by_user_ ? "user" : "request";
    l.control_n = q.control_n, l.control_x = q.control_x, l.arm_n = q.arm_n, l.arm_x = q.arm_x;
    l.control_value = q.control_value, l.arm_value = q.arm_value;
    l.estimate = q.diff;
    l.std_error = std::sqrt(q.var);
    l.variance_ratio = q.variance_ratio;
    l.information = by_user_ ? (q.var > 0 ? var_target_ / q.var : 0.0)
                             : static_cast<double>(std::min(q.control_n, q.arm_n)) / static_cast<double>(n_max_);
    l.statistic = q.statistic;
    l.p_value = std::numeric_limits<double>::quiet_NaN();
    if (!q.proportions) {  // normal posterior of the difference (flat prior)
      const double s2 = std::sqrt(q.var), d = q.diff;
      l.prob_beat = s2 > 0 ? NormalCdf(d / s2) : 0.5;
      l.expected_loss = s2 > 0
                            ? s2 * std::exp(-0.5 * (d / s2) * (d / s2)) / std::sqrt(2 * M_PI) - d * NormalCdf(-d / s2)
                            : std::max(-d, 0.0);
      return l;
    }
    const stats::BetaDistribution qa = stats::Posterior({q.control_x, q.control_n}),
                                  qb = stats::Posterior({q.arm_x, q.arm_n});
    l.prob_beat = stats::ProbabilityBBeatsA(qa, qb);
    l.expected_loss = stats::ExpectedLosses(qa, qb).choose_b;
    return l;
  }

  void Look(const Comparison& q, ArmState& a, size_t k, std::vector<ExperimentLook>* looks,
            std::vector<Action>* actions) {
    ExperimentLook l = Base(q, k);
    const double t = l.information;
    const bool final_look = t >= 1.0;
    const int kk = std::max(1, looks_planned_);
    bool look_now = false;
    switch (method_) {
      case Method::kFixed:
        look_now = final_look;
        l.boundary = final_look ? NormalQuantile(1 - arm_alpha_ / 2) : kInf;
        break;
      case Method::kNaive:  // every cycle when looks = 0, else at the planned fractions
        look_now = looks_planned_ == 0 || final_look || t >= static_cast<double>(a.looks + 1) / kk;
        l.boundary = NormalQuantile(1 - arm_alpha_ / 2);
        break;
      case Method::kObf:
      case Method::kPocock:
        look_now = final_look || t >= design_.fractions[std::min(a.looks, kk - 1)];
        l.boundary = design_.boundaries[std::min(a.looks, kk - 1)];
        if (final_look) l.boundary = design_.boundaries.back();
        break;
      case Method::kLdObf:
      case Method::kLdPocock:
        look_now = final_look || t >= static_cast<double>(a.looks + 1) / kk;
        if (look_now) {
          const double tt = std::min(t, 1.0);
          if (!a.fractions.empty() && tt <= a.fractions.back()) {
            look_now = false;  // no new information since the last look
          } else {
            l.boundary = stats::NextSpendingBoundary(a.fractions, a.boundaries, tt,
                                                     stats::SpentAlpha(spending(), arm_alpha_, tt));
            a.fractions.push_back(tt);
            a.boundaries.push_back(l.boundary);
          }
        }
        break;
      case Method::kMsprt:
      case Method::kBayes:
        look_now = true;
        break;
    }
    if (!look_now) return;
    ++a.looks;
    l.look = a.looks;
    int direction = 0;  // +1 arm better, -1 arm worse
    if (method_ == Method::kMsprt) {
      if (!a.msprt_ready) a.msprt = stats::MixtureSprt(tau_, arm_alpha_), a.msprt_ready = true;
      if (q.var > 0) a.msprt.Update(q.diff, q.var);
      l.p_value = a.msprt.p_value();
      l.boundary = std::log(1 / arm_alpha_);
      l.note = "log likelihood ratio " + experiments::Fmt(std::log(a.msprt.likelihood_ratio()));
      if (a.msprt.rejected()) direction = q.diff > 0 ? 1 : -1;
    } else if (method_ == Method::kBayes) {
      l.boundary = kInf;
      if (l.prob_beat >= prob_threshold_ && l.expected_loss <= loss_threshold_ * baseline_used_) direction = 1;
      if (l.prob_beat <= 1 - prob_threshold_) direction = -1;
    } else {
      l.p_value = 2 * (1 - NormalCdf(std::fabs(l.statistic)));
      if (std::fabs(l.statistic) >= l.boundary) direction = l.statistic > 0 ? 1 : -1;
    }
    if (direction > 0) {
      l.decision = "ship";
      l.note += (l.note.empty() ? "" : "; ") + std::string("arm better than control");
    } else if (direction < 0) {
      l.decision = "stop";
      l.note += (l.note.empty() ? "" : "; ") + std::string("arm worse than control");
    } else if (final_look) {
      l.decision = "no_difference";
      l.note += (l.note.empty() ? "" : "; ") + std::string("planned sample size reached without a decision");
    } else {
      l.decision = "continue";
    }
    looks->push_back(l);
    if (l.decision == "continue") return;
    a.done = true;
    // What the decision compared: the Bayesian probability that the arm beats
    // the control against the probability asked; the mixture SPRT's log
    // likelihood ratio against log(1 / alpha); otherwise z against the
    // look's boundary.
    Evidence evidence{"z", l.statistic, l.boundary};
    if (method_ == Method::kBayes)
      evidence = {"prob_beat", l.prob_beat, direction < 0 ? 1 - prob_threshold_ : prob_threshold_};
    else if (method_ == Method::kMsprt && a.msprt_ready)
      evidence = {"log_likelihood_ratio", std::log(a.msprt.likelihood_ratio()), l.boundary};
    if (direction != 0 || keep_control_)
      Decide(direction, k,
             "experiment '" + spec_.name + "', " + ArmName(k) + ": " + l.decision + " at look " +
                 std::to_string(a.looks) + " (" + l.note + ")",
             evidence, actions);
  }

  // What a decision looked at (the actions table's metric, observed, threshold).
  struct Evidence {
    std::string metric;
    double observed, threshold;
  };

  // direction > 0: ship arm k (pause every other arm); otherwise pause arm k.
  void Decide(int direction, size_t k, const std::string& reason, const Evidence& evidence,
              std::vector<Action>* actions) const {
    if (decision_ == "observe") return;
    auto pause = [&](int campaign) {
      Action act;
      act.kind = ActionKind::kPauseCampaign;
      act.campaign = campaign;
      act.reason = reason;
      act.metric = evidence.metric;
      act.observed = evidence.observed;
      act.threshold = evidence.threshold;
      act.review = decision_ == "review";
      actions->push_back(act);
    };
    if (direction > 0) {
      for (size_t j = 0; j < spec_.arms.size(); ++j)
        if (j != k) pause(spec_.arms[j]);
    } else {
      pause(spec_.arms[k]);
    }
  }

  std::string ArmName(size_t k) const { return "arm " + std::to_string(k); }

  const ExperimentSpec& spec_;
  std::string metric_;
  Method method_;
  double alpha_, power_, mde_, baseline_;
  int looks_planned_;
  int64_t min_trials_;
  double horizon_factor_, prob_threshold_, loss_threshold_;
  std::string decision_;
  bool keep_control_;
  std::vector<std::string> guard_metrics_;  // empty: none
  double guard_max_;
  int64_t guard_min_conv_;
  double arm_alpha_ = 0.05, baseline_used_ = 0, tau_ = 0;
  int64_t n_max_ = 0;
  stats::SequentialDesign design_;
  std::vector<ArmState> arms_;
  bool finished_ = false;
  bool mean_ = false;     // value_per_request by request: a mean test instead of two proportions
  bool by_user_ = false;  // unit user: per-user counters, delta method
  bool cuped_ = false;    // unit user with a pre-period: CUPED
  experiments::UserMetric user_metric_ = experiments::UserMetric::kConversionsPerRequest;
  double var_target_ = 0;                        // unit user: the variance of the difference at the planned sample
  std::vector<experiments::ArmSample> samples_;  // unit user: this cycle's arms (buffers reused)
};

ADSIM_REGISTER_ANALYSIS(
    AbTest, "ab_test", "A/B(/n) test of a rate between experiment arms: fixed, group-sequential, mSPRT or Bayesian",
    StringParam("metric", "conversions_per_request",
                "ctr (clicks/impressions), cvr (conversions/clicks), conversion_rate "
                "(conversions/impressions), conversions_per_request, clicks_per_request, "
                "value_per_request (a mean: conversion value per request, Welch z); unit user only: "
                "conversions_per_user, clicks_per_user, value_per_user",
                {"ctr", "cvr", "conversion_rate", "conversions_per_request", "clicks_per_request", "value_per_request",
                 "conversions_per_user", "clicks_per_user", "value_per_user"}),
    StringParam("unit", "auto",
                "unit of analysis: user (per-user counters, delta method; needs split: user), request "
                "(the arms' counters as independent trials), auto (user under split: user)",
                {"auto", "user", "request"}),
    StringParam("cuped", "auto",
                "CUPED with the pre-period (unit user): auto (when the experiment has a start), on, off",
                {"auto", "on", "off"}),
    StringParam("method", "ld_obf",
                "fixed, naive (uncorrected z at every look), obf, pocock (classical), ld_obf, "
                "ld_pocock (Lan-DeMets spending), msprt (always valid), bayes",
                {"fixed", "naive", "obf", "pocock", "ld_obf", "ld_pocock", "msprt", "bayes"}),
    NumberParam("alpha", 0.05, "two-sided level (Bonferroni-split over treatment arms)", 1e-6, 0.5),
    NumberParam("power", 0.8, "power at the minimum detectable effect", 0.05, 0.999),
    NumberParam("mde", 0.1, "minimum detectable effect, relative to the baseline rate", 1e-4, 10),
    NumberParam("baseline_rate", 0, "expected control rate for the sample size; 0 = the control's rate at min_trials",
                0, 0.999),
    NumberParam("looks", 5, "planned looks (group-sequential, naive); naive with 0 = every cycle", 0, 1000),
    NumberParam("min_trials", 1000, "trials (users with unit user) per arm before the first look", 1, 1e12),
    NumberParam("horizon_factor", 1, "maximum sample = this x the design's maximum sample", 0.01, 1000),
    NumberParam("prob_threshold", 0.95, "bayes: ship when P(beat) reaches it; stop at 1 - it", 0.5, 1),
    NumberParam("loss_threshold", 0.01, "bayes: ship also needs expected loss <= this x baseline", 0, 10),
    StringParam("decision", "act", "act (pause arms), review (propose, held for review), observe (record only)",
                {"act", "review", "observe"}),
    StringParam("at_horizon", "keep_control",
                "without a decision at the planned sample: keep_control (pause the arm) or keep_all",
                {"keep_control", "keep_all"}),
    StringParam("guardrail_metric", "none",
                "cost metrics an arm may not worsen: none, or cpa, cpc, cpm separated by commas"),
    NumberParam("guardrail_max_increase", 0.2, "largest relative rise of the guardrail metric", 0, 100),
    NumberParam("guardrail_min_conversions", 30,
                "evidence before the guardrail acts: conversions (cpa), 100x this in clicks or "
                "impressions (cpc, cpm)",
                1, 1e12));

}  // namespace
}  // namespace adsim::experiments
