// factorial_test: a 2^k factorial (multivariate) analysis of an experiment
// whose 2^k arms are the cells of k two-level factors: bit j of the arm index
// is factor j's level (arm 0 = every factor low, the control). It records,
// each control cycle from the experiment's start, every arm's rate over that cycle (one observation per
// arm and cycle with trials), and at `analyze_at_hours` fits all main effects
// and interactions by OLS (stats::FitFactorial) on those observations. It
// writes one experiment_looks row per effect and takes no action
// (docs/strategies/experiments/factorial_test.md).
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/registry.h"
#include "strategies/experiments/lib/arm_metric.h"
#include "strategies/experiments/lib/stats.h"

namespace adsim::experiments {
namespace {

class FactorialTest final : public ExperimentAnalysis {
 public:
  explicit FactorialTest(const BuildContext& ctx)
      : spec_(experiments::ExperimentOf(ctx)),
        metric_(ctx.params.String("metric")),
        alpha_(ctx.params.Number("alpha")),
        min_trials_(static_cast<int64_t>(ctx.params.Number("min_trials_per_cycle"))) {
    const size_t arms = spec_.arms.size();
    while ((size_t{1} << factors_) < arms) ++factors_;
    if ((size_t{1} << factors_) != arms || factors_ < 1)
      throw ConfigError({{ctx.scenario->source_name, ctx.where, 0,
                          "an experiment with 2^k arms (k two-level factors; arm index bits = levels)",
                          std::to_string(arms) + " arms"}});
    const double hours = ctx.params.Number("analyze_at_hours");
    analyze_at_ =
        hours > 0 ? static_cast<SimTime>(hours * kMicrosPerHour) : ctx.scenario->duration - ctx.scenario->control_cycle;
    // A fit planned after the last control cycle would silently never happen.
    if (analyze_at_ > ctx.scenario->duration - ctx.scenario->control_cycle)
      throw ConfigError(
          {{ctx.scenario->source_name, ctx.where + ".params.analyze_at_hours", 0,
            "a time within the run: at most " +
                experiments::Fmt(static_cast<double>(ctx.scenario->duration - ctx.scenario->control_cycle) /
                                 kMicrosPerHour) +
                " hours (the last control cycle)",
            experiments::Fmt(hours)}});
  }

  void OnCycle(const Snapshot& snap, const ExperimentData& d, std::vector<ExperimentLook>* looks,
               std::vector<Action>*) override {
    if (done_) return;
    previous_.resize(spec_.arms.size());
    for (size_t a = 0; a < spec_.arms.size(); ++a) {
      // This cycle's counters: the difference of the arm's counters since the start.
      ObservedStats s = d.since_start[a];
      s.Subtract(previous_[a]);
      previous_[a] = d.since_start[a];
      int64_t n = 0, x = 0;
      experiments::RateCounts(metric_, s, &n, &x);
      if (n >= min_trials_ && n > 0)
        data_.push_back({static_cast<uint32_t>(a), static_cast<double>(x) / static_cast<double>(n)});
    }
    if (snap.time < analyze_at_) return;
    done_ = true;
    ExperimentLook base;
    base.metric = metric_;
    base.look = 1;
    base.boundary = NormalQuantile(1 - alpha_ / 2);
    base.prob_beat = std::nan("");
    base.expected_loss = std::nan("");
    try {
      const stats::FactorialFit fit = stats::FitFactorial(factors_, data_, 0, alpha_);
      for (const auto& e : fit.effects) {
        ExperimentLook l = base;
        l.arm = static_cast<int>(e.factors);
        l.statistic = e.t;
        l.p_value = e.p_value;
        l.estimate = e.effect;
        l.std_error = e.std_error;
        l.information = static_cast<double>(data_.size());
        l.decision = e.p_value <= alpha_ ? "significant" : "not_significant";
        l.note = Name(e.factors) + ": effect " + experiments::Fmt(e.effect) + " [" + experiments::Fmt(e.ci_low) + ", " +
                 experiments::Fmt(e.ci_high) + "] on " + metric_ + " (df " + std::to_string(fit.df) + ", intercept " +
                 experiments::Fmt(fit.intercept) + ")";
        looks->push_back(l);
      }
    } catch (const ConfigError& e) {  // too few observations for the model
      ExperimentLook l = base;
      l.decision = "not_reached";
      l.note = std::string("no fit: ") + e.what();
      looks->push_back(l);
    }
  }

 private:
  // "A", "B", "A:B" ... with the factor names of the experiment's arms when given.
  std::string Name(uint32_t mask) const {
    std::string out;
    for (int j = 0; j < factors_; ++j)
      if (mask & (1u << j)) {
        if (!out.empty()) out += ':';
        out += static_cast<char>('A' + j);
      }
    return out;
  }

  const ExperimentSpec& spec_;
  std::string metric_;
  double alpha_;
  int64_t min_trials_;
  int factors_ = 0;
  SimTime analyze_at_ = 0;
  std::vector<stats::FactorialObservation> data_;
  std::vector<ObservedStats> previous_;  // per arm: counters since the start at the last cycle
  bool done_ = false;
};

ADSIM_REGISTER_ANALYSIS(
    FactorialTest, "factorial_test",
    "2^k factorial (multivariate) test of main effects and interactions on per-cycle arm rates",
    StringParam("metric", "ctr", "ctr, cvr, conversion_rate, conversions_per_request, clicks_per_request",
                experiments::RateMetrics()),
    NumberParam("alpha", 0.05, "two-sided level of each effect's t test", 1e-6, 0.5),
    NumberParam("analyze_at_hours", 0, "when to fit (simulated hours); 0 = the run's last cycle", 0, 1e6),
    NumberParam("min_trials_per_cycle", 100, "an arm's cycle counts as an observation from this many trials", 1, 1e12));

}  // namespace
}  // namespace adsim::experiments
