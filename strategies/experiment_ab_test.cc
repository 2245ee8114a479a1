// ab_test: the analysis of an A/B(/n) experiment whose arms are campaigns
// (docs/strategies/ab_test.md). Each control cycle it reads the arms' observed
// counters (reported conversions only), looks when the plan says so, and
// decides: ship a winner (pause every other arm), stop a loser (pause it), or
// no difference at the planned sample size. Decisions are actions, so the
// guardrails (hold_pauses) and `decision: review` can hold them.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/registry.h"
#include "strategies/experiments/arm_metric.h"
#include "strategies/experiments/stats.h"

namespace adsim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

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
        guard_metric_(ctx.params.String("guardrail_metric")),
        guard_max_(ctx.params.Number("guardrail_max_increase")),
        guard_min_conv_(static_cast<int64_t>(ctx.params.Number("guardrail_min_conversions"))) {
    const int treatments = static_cast<int>(spec_.arms.size()) - 1;
    arm_alpha_ = alpha_ / treatments;  // Bonferroni over the treatment arms
    arms_.resize(spec_.arms.size());
    mean_ = metric_ == "value_per_request";
    if (baseline_ > 0 && !mean_) Plan(baseline_);
  }

  void OnCycle(const Snapshot& snap, int, std::vector<ExperimentLook>* looks, std::vector<Action>* actions) override {
    if (finished_) return;
    std::vector<Counts> c(spec_.arms.size());
    for (size_t k = 0; k < spec_.arms.size(); ++k) c[k] = CountsOf(snap, spec_.arms[k]);
    if (n_max_ == 0) {  // plan from the control's observed rate once it has min_trials trials
      if (c[0].n < min_trials_ || c[0].x == 0) return;
      if (mean_) {
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
      if (GuardrailBreached(c[0], c[k], a, looks, k, actions)) continue;
      if (std::min(c[0].n, c[k].n) < min_trials_) continue;
      Look(c[0], c[k], a, k, looks, actions);
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

  Counts CountsOf(const Snapshot& snap, int campaign) const {
    const ObservedStats s = snap.CampaignTotal(snap.total, campaign);
    Counts c;
    c.spend = s.spend;
    c.conversions = s.conversions;
    c.clicks = s.clicks;
    c.impressions = s.impressions;
    experiments::RateCounts(metric_ == "value_per_request" ? "conversions_per_request" : metric_, s, &c.n, &c.x);
    if (mean_) c.sum = s.conversion_value, c.sumsq = s.conversion_value_sq;
    return c;
  }

  // Guardrail metric of the arm against the control: a cost per unit that
  // may not rise by more than guard_max_ (relative) once both have evidence.
  bool GuardrailBreached(const Counts& ctl, const Counts& arm, ArmState& a, std::vector<ExperimentLook>* looks,
                         size_t k, std::vector<Action>* actions) {
    if (guard_metric_ == "none") return false;
    auto cost = [&](const Counts& c, int64_t* units) {
      *units = guard_metric_ == "cpa" ? c.conversions : guard_metric_ == "cpc" ? c.clicks : c.impressions;
      const double per = guard_metric_ == "cpm" ? 1000.0 : 1.0;
      return *units > 0 ? per * c.spend / static_cast<double>(*units) : kInf;
    };
    int64_t uc = 0, ua = 0;
    const double cc = cost(ctl, &uc), ca = cost(arm, &ua);
    const int64_t need = guard_metric_ == "cpa" ? guard_min_conv_ : 100 * guard_min_conv_;
    if (uc < need || ua < need || !(ca > cc * (1 + guard_max_))) return false;
    ExperimentLook l = Base(ctl, arm, k);
    l.look = a.looks;
    l.decision = "guardrail_stop";
    l.note = guard_metric_ + " " + experiments::Fmt(ca) + " vs control " + experiments::Fmt(cc) + ": above +" +
             experiments::Fmt(100 * guard_max_) + "%";
    looks->push_back(l);
    Decide(-1, k, l.note, actions);
    a.done = true;
    return true;
  }

  ExperimentLook Base(const Counts& ctl, const Counts& arm, size_t k) const {
    ExperimentLook l;
    l.arm = static_cast<int>(k);
    l.metric = metric_;
    l.control_n = ctl.n, l.control_x = ctl.x, l.arm_n = arm.n, l.arm_x = arm.x;
    l.information = static_cast<double>(std::min(ctl.n, arm.n)) / static_cast<double>(n_max_);
    const double pa = static_cast<double>(ctl.x) / static_cast<double>(std::max<int64_t>(ctl.n, 1));
    const double pb = static_cast<double>(arm.x) / static_cast<double>(std::max<int64_t>(arm.n, 1));
    const double pool = static_cast<double>(ctl.x + arm.x) / static_cast<double>(std::max<int64_t>(ctl.n + arm.n, 1));
    const double se =
        std::sqrt(pool * (1 - pool) * (1.0 / std::max<int64_t>(ctl.n, 1) + 1.0 / std::max<int64_t>(arm.n, 1)));
    l.statistic = se > 0 ? (pb - pa) / se : 0.0;
    l.p_value = std::numeric_limits<double>::quiet_NaN();
    if (mean_) {  // Welch z; normal posterior of the difference (flat prior)
      double ma, va, mb, vb;
      MeanVar(ctl, &ma, &va);
      MeanVar(arm, &mb, &vb);
      const double s2 = std::sqrt(va / static_cast<double>(std::max<int64_t>(ctl.n, 1)) +
                                  vb / static_cast<double>(std::max<int64_t>(arm.n, 1)));
      const double d = mb - ma;
      l.statistic = s2 > 0 ? d / s2 : 0.0;
      l.prob_beat = s2 > 0 ? stats::NormalCdf(d / s2) : 0.5;
      l.expected_loss =
          s2 > 0 ? s2 * std::exp(-0.5 * (d / s2) * (d / s2)) / std::sqrt(2 * M_PI) - d * stats::NormalCdf(-d / s2)
                 : std::max(-d, 0.0);
      return l;
    }
    const stats::BetaDistribution qa = stats::Posterior({ctl.x, ctl.n}), qb = stats::Posterior({arm.x, arm.n});
    l.prob_beat = stats::ProbabilityBBeatsA(qa, qb);
    l.expected_loss = stats::ExpectedLosses(qa, qb).choose_b;
    return l;
  }

  void Look(const Counts& ctl, const Counts& arm, ArmState& a, size_t k, std::vector<ExperimentLook>* looks,
            std::vector<Action>* actions) {
    ExperimentLook l = Base(ctl, arm, k);
    const double t = l.information;
    const bool final_look = t >= 1.0;
    const int kk = std::max(1, looks_planned_);
    bool look_now = false;
    switch (method_) {
      case Method::kFixed:
        look_now = final_look;
        l.boundary = final_look ? stats::NormalQuantile(1 - arm_alpha_ / 2) : kInf;
        break;
      case Method::kNaive:  // every cycle when looks = 0, else at the planned fractions
        look_now = looks_planned_ == 0 || final_look || t >= static_cast<double>(a.looks + 1) / kk;
        l.boundary = stats::NormalQuantile(1 - arm_alpha_ / 2);
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
    double pa = static_cast<double>(ctl.x) / static_cast<double>(ctl.n);
    double pb = static_cast<double>(arm.x) / static_cast<double>(arm.n);
    double var = pa * (1 - pa) / static_cast<double>(ctl.n) + pb * (1 - pb) / static_cast<double>(arm.n);
    if (mean_) {
      double va, vb;
      MeanVar(ctl, &pa, &va);
      MeanVar(arm, &pb, &vb);
      var = va / static_cast<double>(ctl.n) + vb / static_cast<double>(arm.n);
    }
    if (method_ == Method::kMsprt) {
      if (!a.msprt_ready) a.msprt = stats::MixtureSprt(tau_, arm_alpha_), a.msprt_ready = true;
      if (var > 0) a.msprt.Update(pb - pa, var);
      l.p_value = a.msprt.p_value();
      l.boundary = std::log(1 / arm_alpha_);
      l.note = "log likelihood ratio " + experiments::Fmt(std::log(a.msprt.likelihood_ratio()));
      if (a.msprt.rejected()) direction = pb > pa ? 1 : -1;
    } else if (method_ == Method::kBayes) {
      l.boundary = kInf;
      if (l.prob_beat >= prob_threshold_ && l.expected_loss <= loss_threshold_ * baseline_used_) direction = 1;
      if (l.prob_beat <= 1 - prob_threshold_) direction = -1;
    } else {
      l.p_value = 2 * (1 - stats::NormalCdf(std::fabs(l.statistic)));
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
    if (direction != 0 || keep_control_)
      Decide(direction, k,
             "experiment '" + spec_.name + "', " + ArmName(k) + ": " + l.decision + " at look " +
                 std::to_string(a.looks) + " (" + l.note + ")",
             actions);
  }

  // direction > 0: ship arm k (pause every other arm); otherwise pause arm k.
  void Decide(int direction, size_t k, const std::string& reason, std::vector<Action>* actions) const {
    if (decision_ == "observe") return;
    auto pause = [&](int campaign) {
      Action act;
      act.kind = ActionKind::kPauseCampaign;
      act.campaign = campaign;
      act.reason = reason;
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
  std::string guard_metric_;
  double guard_max_;
  int64_t guard_min_conv_;
  double arm_alpha_ = 0.05, baseline_used_ = 0, tau_ = 0;
  int64_t n_max_ = 0;
  stats::SequentialDesign design_;
  std::vector<ArmState> arms_;
  bool finished_ = false;
  bool mean_ = false;  // value_per_request: a mean test instead of two proportions
};

const Registration kAbTest({
    .name = "ab_test",
    .kind = ComponentKind::kAnalysis,
    .description = "A/B(/n) test of a rate between experiment arms: fixed, group-sequential, mSPRT or Bayesian",
    .params = {StringParam("metric", "conversions_per_request",
                           "ctr (clicks/impressions), cvr (conversions/clicks), conversion_rate "
                           "(conversions/impressions), conversions_per_request, clicks_per_request, "
                           "value_per_request (a mean: conversion value per request, Welch z)",
                           {"ctr", "cvr", "conversion_rate", "conversions_per_request", "clicks_per_request",
                            "value_per_request"}),
               StringParam("method", "ld_obf",
                           "fixed, naive (uncorrected z at every look), obf, pocock (classical), ld_obf, "
                           "ld_pocock (Lan-DeMets spending), msprt (always valid), bayes",
                           {"fixed", "naive", "obf", "pocock", "ld_obf", "ld_pocock", "msprt", "bayes"}),
               NumberParam("alpha", 0.05, "two-sided level (Bonferroni-split over treatment arms)", 1e-6, 0.5),
               NumberParam("power", 0.8, "power at the minimum detectable effect", 0.05, 0.999),
               NumberParam("mde", 0.1, "minimum detectable effect, relative to the baseline rate", 1e-4, 10),
               NumberParam("baseline_rate", 0,
                           "expected control rate for the sample size; 0 = the control's rate at min_trials", 0, 0.999),
               NumberParam("looks", 5, "planned looks (group-sequential, naive); naive with 0 = every cycle", 0, 1000),
               NumberParam("min_trials", 1000, "trials per arm before the first look", 1, 1e12),
               NumberParam("horizon_factor", 1, "maximum sample = this x the design's maximum sample", 0.01, 1000),
               NumberParam("prob_threshold", 0.95, "bayes: ship when P(beat) reaches it; stop at 1 - it", 0.5, 1),
               NumberParam("loss_threshold", 0.01, "bayes: ship also needs expected loss <= this x baseline", 0, 10),
               StringParam("decision", "act",
                           "act (pause arms), review (propose, held for review), observe (record only)",
                           {"act", "review", "observe"}),
               StringParam("at_horizon", "keep_control",
                           "without a decision at the planned sample: keep_control (pause the arm) or keep_all",
                           {"keep_control", "keep_all"}),
               StringParam("guardrail_metric", "none", "cost metric an arm may not worsen: none, cpa, cpc, cpm",
                           {"none", "cpa", "cpc", "cpm"}),
               NumberParam("guardrail_max_increase", 0.2, "largest relative rise of the guardrail metric", 0, 100),
               NumberParam("guardrail_min_conversions", 30,
                           "evidence before the guardrail acts: conversions (cpa), 100x this in clicks or "
                           "impressions (cpc, cpm)",
                           1, 1e12)},
    .campaign_scoped = false,
    .origin = "C++",
    .make_analysis = [](const BuildContext& ctx) -> std::unique_ptr<ExperimentAnalysis> {
      return std::make_unique<AbTest>(ctx);
    },
});

}  // namespace
}  // namespace adsim
