// alert_rule: declarative alert rules evaluated on the snapshot each control
// cycle, per campaign x channel (or x segment):
//   performance_drop   metric over the last `window` below `threshold` x its
//                      value over the preceding `baseline` (cpa: above, since
//                      a higher CPA is worse);
//   opportunity        metric over the window above `threshold` x baseline
//                      (cpa: below) while the campaign still has budget today;
//   engagement_change  |ctr over the window / baseline - 1| above `threshold`;
//   overpacing         spend today / (daily budget x share of the day's
//                      expected traffic elapsed) above `threshold` (per campaign);
//   underpacing        the same pacing ratio below `threshold`.
// Evidence: the window must hold at least `min_evidence` of the metric's
// denominator (impressions for ctr, clicks for cvr and cpc, conversions for
// cpa, spend for roas, bids for win_rate); pacing rules need `min_elapsed`
// of the day's traffic. After an alert the rule stays quiet for `cooldown`.
#include <cmath>
#include <deque>
#include <map>

#include "core/registry.h"
#include "strategies/lib/traffic_curve.h"

namespace adsim::monitors {
namespace {

struct Counts {
  double num = 0, den = 0;
};

class AlertRule final : public Monitor {
 public:
  explicit AlertRule(const BuildContext& ctx)
      : scenario_(*ctx.scenario),
        rule_(ctx.params.String("rule")),
        metric_(ctx.params.String("metric")),
        threshold_(ctx.params.Number("threshold")),
        window_(std::max<int64_t>(
            1, static_cast<int64_t>(ctx.params.Number("window_hours") * kMicrosPerHour) / ctx.scenario->control_cycle)),
        baseline_(std::max<int64_t>(1, static_cast<int64_t>(ctx.params.Number("baseline_hours") * kMicrosPerHour) /
                                           ctx.scenario->control_cycle)),
        min_evidence_(ctx.params.Number("min_evidence")),
        min_elapsed_(ctx.params.Number("min_elapsed")),
        cooldown_(static_cast<SimTime>(ctx.params.Number("cooldown_hours") * kMicrosPerHour)),
        by_segment_(ctx.params.Bool("by_segment")),
        severity_(ctx.params.String("severity")) {
    if (rule_ == "engagement_change") metric_ = "ctr";
  }

  void OnCycle(const Snapshot& snap, std::vector<Alert>* alerts) override {
    if (snap.time == 0) return;
    if (rule_ == "overpacing" || rule_ == "underpacing") {
      Pacing(snap, alerts);
      return;
    }
    for (size_t c = 0; c < snap.campaigns.size(); ++c)
      for (int ch = 0; ch < snap.num_channels; ++ch) {
        if (!by_segment_) {
          Series(snap, static_cast<int>(c), ch, -1, alerts);
          continue;
        }
        for (int s = 0; s < snap.num_segments; ++s) Series(snap, static_cast<int>(c), ch, s, alerts);
      }
  }

 private:
  Counts Extract(const ObservedStats& o) const {
    if (metric_ == "ctr") return {static_cast<double>(o.clicks), static_cast<double>(o.impressions)};
    if (metric_ == "cvr") return {static_cast<double>(o.conversions), static_cast<double>(o.clicks)};
    if (metric_ == "cpc") return {o.spend, static_cast<double>(o.clicks)};
    if (metric_ == "cpa") return {o.spend, static_cast<double>(o.conversions)};
    if (metric_ == "roas") return {o.conversion_value, o.spend};
    return {static_cast<double>(o.impressions), static_cast<double>(o.bids)};  // win_rate
  }

  void Series(const Snapshot& snap, int c, int ch, int seg, std::vector<Alert>* alerts) {
    ObservedStats sum;
    for (int s = 0; s < snap.num_segments; ++s) {
      if (seg >= 0 && s != seg) continue;
      for (int cr = 0; cr < snap.num_creatives[c]; ++cr) sum.Add(snap.last_cycle[snap.Cell(c, ch, s, cr)]);
    }
    auto& hist = history_[{c, ch, seg}];
    hist.push_back(Extract(sum));
    while (static_cast<int64_t>(hist.size()) > window_ + baseline_) hist.pop_front();
    if (static_cast<int64_t>(hist.size()) < window_ + baseline_) return;  // not enough history yet
    Counts base, win;
    for (int64_t i = 0; i < static_cast<int64_t>(hist.size()); ++i) {
      Counts& into = i < baseline_ ? base : win;
      into.num += hist[i].num;
      into.den += hist[i].den;
    }
    if (win.den < min_evidence_ || base.den <= 0 || base.num <= 0) return;
    const double now = win.num / win.den, expected = base.num / base.den;
    const double ratio = now / expected;
    const bool cost = metric_ == "cpa" || metric_ == "cpc";  // higher is worse
    bool fire = false;
    if (rule_ == "performance_drop") fire = cost ? ratio > threshold_ : ratio < threshold_;
    if (rule_ == "opportunity") {
      const CampaignState& st = snap.campaigns[c];
      const bool budget_left = !std::isfinite(st.daily_budget) || st.spend_today < st.daily_budget;
      fire = budget_left && (cost ? ratio < threshold_ : ratio > threshold_);
    }
    if (rule_ == "engagement_change") fire = std::fabs(ratio - 1.0) > threshold_;
    if (fire) Raise(snap, c, ch, seg, now, expected, ratio - 1.0, alerts);
  }

  void Pacing(const Snapshot& snap, std::vector<Alert>* alerts) {
    for (size_t c = 0; c < snap.campaigns.size(); ++c) {
      const CampaignState& st = snap.campaigns[c];
      if (!std::isfinite(st.daily_budget) || st.daily_budget <= 0) continue;
      const double elapsed = ElapsedTrafficShare(scenario_, static_cast<int>(c), HourOfDay(scenario_, snap.time));
      if (elapsed < min_elapsed_) continue;
      const double ratio = st.spend_today / (st.daily_budget * elapsed);
      const bool fire = rule_ == "overpacing" ? ratio > threshold_ : ratio < threshold_;
      if (fire) Raise(snap, static_cast<int>(c), -1, -1, ratio, 1.0, ratio - 1.0, alerts);
    }
  }

  void Raise(const Snapshot& snap, int c, int ch, int seg, double value, double expected, double score,
             std::vector<Alert>* alerts) {
    SimTime& quiet_until = quiet_until_[{c, ch, seg}];
    if (snap.time < quiet_until) return;
    quiet_until = snap.time + cooldown_;
    Alert a;
    a.campaign = c;
    a.channel = ch;
    a.segment = seg;
    a.metric = rule_ == "overpacing" || rule_ == "underpacing" ? "pacing_ratio" : metric_;
    a.value = value;
    a.expected = expected;
    a.score = score;
    a.severity = severity_;
    a.message = rule_ + ": " + a.metric + " " + std::to_string(value) + " against " + std::to_string(expected);
    alerts->push_back(a);
  }

  const PublicScenario& scenario_;
  std::string rule_, metric_;
  double threshold_;
  int64_t window_, baseline_;
  double min_evidence_, min_elapsed_;
  SimTime cooldown_;
  bool by_segment_;
  std::string severity_;
  std::map<std::tuple<int, int, int>, std::deque<Counts>> history_;
  std::map<std::tuple<int, int, int>, SimTime> quiet_until_;
};

ADSIM_REGISTER_MONITOR(
    AlertRule, "alert_rule",
    "Declarative alert rule: performance drop, opportunity, engagement change, over- or underpacing.",
    StringParam("rule", "performance_drop", "which rule",
                {"performance_drop", "opportunity", "engagement_change", "overpacing", "underpacing"}),
    StringParam("metric", "ctr", "metric of drop and opportunity rules",
                {"ctr", "cvr", "cpc", "cpa", "roas", "win_rate"}),
    NumberParam("threshold", 0.7,
                "ratio to the baseline (drop, opportunity), relative change (engagement) or pacing ratio", 0, 1e6),
    NumberParam("window_hours", 2, "recent window", 0.01, 10000),
    NumberParam("baseline_hours", 24, "baseline window before the recent one", 0.01, 100000),
    NumberParam("min_evidence", 100, "denominator needed in the recent window", 0, 1e15),
    NumberParam("min_elapsed", 0.1, "pacing rules: share of the day's traffic elapsed first", 0, 1),
    NumberParam("cooldown_hours", 6, "quiet time after an alert, per series", 0, 100000),
    BoolParam("by_segment", false, "one series per segment"),
    StringParam("severity", "warning", "severity of its alerts", {"info", "warning", "critical"}));

}  // namespace
}  // namespace adsim::monitors
