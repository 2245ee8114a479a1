#include "strategies/monitors/lib/kpi_series.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "core/normal.h"

namespace adsim::monitors {

const std::vector<std::string>& KpiMetrics() {
  static const std::vector<std::string> kMetrics = {"ctr",    "cvr",         "win_rate",    "requests",
                                                    "clicks", "impressions", "conversions", "spend"};
  return kMetrics;
}

bool IsRateMetric(const std::string& m) { return m == "ctr" || m == "cvr" || m == "win_rate"; }

std::vector<ParamSpec> KpiParams(std::vector<ParamSpec> own, const std::string& default_side) {
  std::vector<ParamSpec> p = {
      StringParam("metric", "ctr", "the KPI watched: a rate (ctr, cvr, win_rate) or a per-cycle level", KpiMetrics()),
      BoolParam("by_segment", false, "one series per segment instead of per campaign x channel"),
      StringParam("side", default_side, "which departures alert", {"drop", "rise", "both"}),
      NumberParam("min_trials", 200,
                  "rates: trials (impressions, clicks or bids; cvr with a delay: matured clicks) in the cycle needed "
                  "to chart it",
                  0, 1e12),
      NumberParam("cooldown_cycles", 8, "cycles during which a series does not alert again", 0, 1e6),
      NumberParam("gap_factor", 0,
                  "if >= 1: a spacing between charted cycles over this many times the typical one is a gap (the "
                  "detector restarts its level or window); 0 = off, since cycles skipped for too little evidence "
                  "(e.g. at night) are not a break in the KPI",
                  0, 1e9),
      StringParam("severity", "warning", "severity of its alerts", {"info", "warning", "critical"}),
      NumberParam("conversion_delay_hours", kDefaultConversionDelayHours,
                  "cvr: assumed mean of an exponential conversion delay, in hours; 0 = no correction", 0, 1e4),
      NumberParam("conversion_delay_fit_cycles", 0,
                  "cvr: if >= 2, estimate each series' mean delay from its first this many cycles (no alert before) "
                  "instead of using conversion_delay_hours; 0 = off",
                  0, 2000)};
  for (auto& q : own) p.push_back(std::move(q));
  return p;
}

Side SideParam(const Params& params) {
  const std::string& s = params.String("side");
  return s == "drop" ? Side::kLower : s == "rise" ? Side::kUpper : Side::kBoth;
}

std::string KpiMonitor::ParamText(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

double KpiMonitor::ScoreOfZ(double z, Side side) {
  return 1.0 - (side == Side::kBoth ? 2.0 : 1.0) * NormalUpperTail(z);
}

void KpiMonitor::UseDetector(const BuildContext& ctx, const std::string& name,
                             std::map<std::string, std::string> params) {
  const std::string& side = ctx.params.String("side");
  params["side"] = side == "drop" ? "lower" : side == "rise" ? "upper" : "both";
  params["transform"] = "none";
  const double gap_factor = ctx.params.Number("gap_factor");
  params["gap_factor"] = ParamText(gap_factor == 0.0 ? 1e9 : gap_factor);  // 1e9: no spacing is a gap
  params["cooldown_hours"] = "0";  // checked here; set from cooldown_cycles once the control cycle is known
  try {
    MakeNamedDetector(name, params);
  } catch (const ConfigError& error) {
    // Name the monitor's field: the detector's parameter is derived from it.
    std::vector<ConfigIssue> issues;
    for (ConfigIssue issue : error.issues()) {
      issue.file = ctx.scenario->source_name;
      issue.expected += " (detector " + name + " parameter " + issue.path + ", derived from the monitor's parameters)";
      issue.path = ctx.where + ".params";
      issues.push_back(issue);
    }
    if (issues.empty()) throw;
    throw ConfigError(issues);
  }
  detector_name_ = name;
  detector_params_ = std::move(params);
}

KpiMonitor::KpiMonitor(const BuildContext& ctx)
    : metric_(ctx.params.String("metric")),
      by_segment_(ctx.params.Bool("by_segment")),
      min_trials_(ctx.params.Number("min_trials")),
      cooldown_(static_cast<int>(ctx.params.Number("cooldown_cycles"))),
      severity_(ctx.params.String("severity")),
      delay_hours_(ctx.params.Number("conversion_delay_hours")),
      fit_cycles_(static_cast<int>(ctx.params.Number("conversion_delay_fit_cycles"))),
      start_offset_in_week_(static_cast<SimTime>(ctx.scenario->start_weekday) * kMicrosPerDay +
                            ctx.scenario->start_offset_in_day) {
  if (fit_cycles_ == 1)
    throw ConfigError(
        std::vector<ConfigIssue>{{ctx.scenario->source_name, ctx.where + ".params.conversion_delay_fit_cycles", 0,
                                  "0 (off) or at least 2 cycles to fit the delay on", "1"}});
}

void KpiMonitor::OnCycle(const Snapshot& snap, std::vector<Alert>* alerts) {
  ++cycle_;
  if (snap.time == 0) return;  // the first cycle has seen nothing yet
  if (metric_ == "cvr" && delay_hours_ > 0.0 && fit_cycles_ == 0 && delay_weights_.empty())
    delay_weights_ = ReportingWeights(ExponentialDelayCdf(delay_hours_), snap.control_cycle);
  for (size_t c = 0; c < snap.campaigns.size(); ++c)
    for (int ch = 0; ch < snap.num_channels; ++ch) {
      if (!by_segment_) {
        Observe(snap, static_cast<int>(c), ch, -1, alerts);
        continue;
      }
      for (int s = 0; s < snap.num_segments; ++s) Observe(snap, static_cast<int>(c), ch, s, alerts);
    }
}

void KpiMonitor::Observe(const Snapshot& snap, int c, int ch, int seg, std::vector<Alert>* alerts) {
  ObservedStats sum;
  for (int s = 0; s < snap.num_segments; ++s) {
    if (seg >= 0 && s != seg) continue;
    for (int cr = 0; cr < snap.num_creatives[c]; ++cr) sum.Add(snap.last_cycle[snap.Cell(c, ch, s, cr)]);
  }
  Series* sr = nullptr;
  if (auto it = series_.find({c, ch, seg}); it != series_.end()) {
    sr = &it->second;
  } else {
    if (sum.requests == 0) return;  // the campaign does not run here (yet)
    sr = &series_[{c, ch, seg}];
    if (!delay_weights_.empty()) {
      sr->matured = std::make_unique<MaturedClicks>(delay_weights_);
      sr->delay_hours = delay_hours_;
    }
  }
  if (fit_cycles_ > 0 && metric_ == "cvr" && !sr->matured) {
    // Estimating this series' delay: keep the counts until the window is
    // full (and holds a few conversions), fit, then chart the window in
    // hindsight, without alerts (it serves as the detector's warm-up).
    sr->fit_window.push_back({sum, snap.time});
    sr->fit_conversions += static_cast<double>(sum.conversions);
    if (static_cast<int>(sr->fit_window.size()) < fit_cycles_ || sr->fit_conversions < kMinFitConversions) return;
    std::vector<double> clicks, conversions;
    for (const auto& [stats, time] : sr->fit_window) {
      clicks.push_back(static_cast<double>(stats.clicks));
      conversions.push_back(static_cast<double>(stats.conversions));
    }
    sr->delay_hours = FitDelayFromCounts(clicks, conversions, snap.control_cycle).mean_hours;
    sr->matured =
        std::make_unique<MaturedClicks>(ReportingWeights(ExponentialDelayCdf(sr->delay_hours), snap.control_cycle));
    for (const auto& [stats, time] : sr->fit_window) {
      const double matured = sr->matured->Add(static_cast<double>(stats.clicks));
      if (stats.requests > 0) Chart(sr, c, ch, seg, stats, matured, time, snap.control_cycle, nullptr);
    }
    sr->fit_window = {};
    return;
  }
  // The clicks whose conversions can have been reported during this cycle.
  // Recorded every cycle, even one that is not charted: conversions keep
  // arriving from earlier clicks.
  const double matured =
      sr->matured ? sr->matured->Add(static_cast<double>(sum.clicks)) : static_cast<double>(sum.clicks);
  if (sum.requests == 0) return;  // no traffic this cycle
  Chart(sr, c, ch, seg, sum, matured, snap.time, snap.control_cycle, alerts);
}

void KpiMonitor::Chart(Series* sr, int c, int ch, int seg, const ObservedStats& sum, double matured_clicks,
                       SimTime time, SimTime control_cycle, std::vector<Alert>* alerts) {
  KpiObservation obs;
  obs.rate = IsRateMetric(metric_);
  if (metric_ == "ctr") {
    obs.successes = static_cast<double>(sum.clicks);
    obs.trials = static_cast<double>(sum.impressions);
  } else if (metric_ == "cvr") {
    obs.successes = static_cast<double>(sum.conversions);
    obs.trials = matured_clicks;
  } else if (metric_ == "win_rate") {
    obs.successes = static_cast<double>(sum.impressions);
    obs.trials = static_cast<double>(sum.bids);
  } else if (metric_ == "requests") {
    obs.value = static_cast<double>(sum.requests);
  } else if (metric_ == "clicks") {
    obs.value = static_cast<double>(sum.clicks);
  } else if (metric_ == "impressions") {
    obs.value = static_cast<double>(sum.impressions);
  } else if (metric_ == "conversions") {
    obs.value = static_cast<double>(sum.conversions);
  } else {
    obs.value = sum.spend;
  }
  if (obs.rate) {
    if (obs.trials < std::max(1.0, min_trials_)) return;  // too little evidence to chart this cycle
    // More conversions than matured clicks is possible only with a tiny
    // exposure (which min_trials is there to exclude): not a rate to chart.
    if (obs.successes > obs.trials) return;
    obs.value = obs.successes / obs.trials;
  }
  if (!sr->detector) {
    std::map<std::string, std::string> params = detector_params_;
    params["cooldown_hours"] =
        ParamText(static_cast<double>(cooldown_) * static_cast<double>(control_cycle) / kMicrosPerHour);
    sr->detector = MakeNamedDetector(detector_name_, params);
  }
  SeriesPoint point;
  point.time = time;
  // The counts cover the cycle that just ended: its seasonal slot is that of
  // its last microsecond, not of the boundary (which belongs to the next
  // hour), counted from the scenario's start weekday and time of day.
  point.clock = time - 1 + start_offset_in_week_ - kUnixEpochOffsetInWeek;
  if (obs.rate) {
    point.successes = obs.successes;
    point.trials = obs.trials;
  } else {
    point.value = obs.value;
  }
  const SeriesVerdict v = sr->detector->Update(point);
  if (alerts == nullptr || !v.alarm) return;
  Alert a;
  a.campaign = c;
  a.channel = ch;
  a.segment = seg;
  a.metric = metric_;
  a.value = obs.value;
  a.expected = v.baseline;
  a.score = v.score;
  a.severity = severity_;
  a.message = std::string(v.direction < 0 ? "drop" : "rise") + " in " + metric_ + " (" + Describe() + ": " + v.reason +
              (sr->matured ? "; conversions over clicks matured under a mean delay of " +
                                 FormatNumber(std::round(sr->delay_hours * 10.0) / 10.0) + " h" +
                                 (fit_cycles_ > 0 ? " (estimated)" : "")
                           : "") +
              ")";
  alerts->push_back(a);
}

}  // namespace adsim::monitors
