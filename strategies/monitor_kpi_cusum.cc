// kpi_cusum: a two-sided (or one-sided) standardised CUSUM on a rate KPI
// (click rate, conversion rate or win rate) per campaign x channel, or per
// campaign x channel x segment, fed once per control cycle with the counts of
// the last cycle. The in-control rate is estimated over a warm-up; the sums
// reset after an alarm and a cooldown suppresses repeated alerts.
#include <map>

#include "core/registry.h"
#include "strategies/monitors/detectors.h"

namespace adsim {
namespace {

class KpiCusum final : public Monitor {
 public:
  explicit KpiCusum(const BuildContext& ctx)
      : metric_(ctx.params.String("metric")),
        by_segment_(ctx.params.Bool("by_segment")),
        cooldown_(static_cast<int>(ctx.params.Number("cooldown_cycles"))),
        severity_(ctx.params.String("severity")) {
    params_.k = ctx.params.Number("k");
    params_.h = ctx.params.Number("h");
    params_.warmup = static_cast<int>(ctx.params.Number("warmup_cycles"));
    params_.min_trials = ctx.params.Number("min_trials");
    const std::string side = ctx.params.String("side");
    params_.side = side == "drop"   ? monitor::Side::kLower
                   : side == "rise" ? monitor::Side::kUpper
                                    : monitor::Side::kBoth;
  }

  void OnCycle(const Snapshot& snap, std::vector<Alert>* alerts) override {
    for (size_t c = 0; c < snap.campaigns.size(); ++c) {
      for (int ch = 0; ch < snap.num_channels; ++ch) {
        if (!by_segment_) {
          Observe(snap, static_cast<int>(c), ch, -1, alerts);
          continue;
        }
        for (int s = 0; s < snap.num_segments; ++s) Observe(snap, static_cast<int>(c), ch, s, alerts);
      }
    }
  }

 private:
  struct Series {
    monitor::Cusum cusum;
    int quiet_until = 0;  // cycle number before which alerts are suppressed
  };

  void Observe(const Snapshot& snap, int c, int ch, int seg, std::vector<Alert>* alerts) {
    double successes = 0, trials = 0;
    for (int s = 0; s < snap.num_segments; ++s) {
      if (seg >= 0 && s != seg) continue;
      for (int cr = 0; cr < snap.num_creatives[c]; ++cr) {
        const ObservedStats& o = snap.last_cycle[snap.Cell(c, ch, s, cr)];
        if (metric_ == "ctr") {
          successes += static_cast<double>(o.clicks);
          trials += static_cast<double>(o.impressions);
        } else if (metric_ == "cvr") {
          successes += static_cast<double>(o.conversions);
          trials += static_cast<double>(o.clicks);
        } else {  // win_rate
          successes += static_cast<double>(o.impressions);
          trials += static_cast<double>(o.bids);
        }
      }
    }
    ++cycle_[{c, ch, seg}];
    if (trials <= 0) return;  // no evidence this cycle: nothing charted
    auto it = series_.find({c, ch, seg});
    if (it == series_.end()) it = series_.emplace(Key{c, ch, seg}, Series{monitor::Cusum(params_), 0}).first;
    Series& sr = it->second;
    const monitor::DetectorResult r = sr.cusum.UpdateRate(successes, trials);
    const int now = cycle_[{c, ch, seg}];
    if (!r.fired() || now < sr.quiet_until) return;
    sr.quiet_until = now + cooldown_;
    Alert a;
    a.campaign = c;
    a.channel = ch;
    a.segment = seg;
    a.metric = metric_;
    a.value = r.value;
    a.expected = r.expected;
    a.score = r.score;
    a.severity = severity_;
    a.message = std::string(r.fired_lower ? "drop" : "rise") + " in " + metric_ +
                ": CUSUM reached h = " + std::to_string(params_.h);
    alerts->push_back(a);
  }

  using Key = std::tuple<int, int, int>;
  monitor::CusumParams params_;
  std::string metric_;
  bool by_segment_;
  int cooldown_;
  std::string severity_;
  std::map<Key, Series> series_;
  std::map<Key, int> cycle_;
};

const Registration kKpiCusum({
    .name = "kpi_cusum",
    .kind = ComponentKind::kMonitor,
    .description = "CUSUM on a rate KPI (ctr, cvr or win rate) per campaign x channel (x segment), per control cycle.",
    .params = {StringParam("metric", "ctr", "the rate watched", {"ctr", "cvr", "win_rate"}),
               BoolParam("by_segment", false, "one series per segment instead of per campaign x channel"),
               NumberParam("k", 0.5, "reference value in standard errors (half the shift to detect)", 0, 10),
               NumberParam("h", 5.0, "decision interval in standard errors", 0.1, 100),
               StringParam("side", "drop", "which departures alert", {"drop", "rise", "both"}),
               NumberParam("warmup_cycles", 16, "cycles used to estimate the in-control rate", 2, 10000),
               NumberParam("min_trials", 200, "trials (impressions, clicks or bids) needed before alerting", 0, 1e12),
               NumberParam("cooldown_cycles", 8, "cycles during which a series does not alert again", 0, 1e6),
               StringParam("severity", "warning", "severity of its alerts", {"info", "warning", "critical"})},
    .campaign_scoped = false,
    .origin = "C++",
    .make_bidder = nullptr,
    .make_controller = nullptr,
    .make_monitor = [](const BuildContext& ctx) -> std::unique_ptr<Monitor> { return std::make_unique<KpiCusum>(ctx); },
});

}  // namespace
}  // namespace adsim
