// The shared part of the KPI monitors (kpi_cusum, kpi_ewma, kpi_seasonal,
// kpi_tail, kpi_trend): each cycle, one observation per series (campaign x
// channel, or campaign x channel x segment) from the last cycle's counters,
// fed to a named detector of series_detect.h (the same classes and defaults
// `adsim detect` and adsim.detect use, with the simulated time as the
// timestamp); an alert when its score reaches the threshold outside the
// detector's own cooldown (the library's AlertCooldown, cooldown_cycles
// control cycles long). A monitor file only says which named detector a
// series gets and maps its documented parameters onto the detector's.
//
// Delayed conversions: the conversions counted in a cycle are those reported
// during it, from clicks of that cycle and of earlier ones. With
// `conversion_delay_hours` (the mean of an exponential delay, the advertiser's
// historical knowledge) the cvr of a cycle is its reported conversions over
// its matured clicks (monitors::MaturedClicks: past cycles' clicks weighted by
// the probability that their conversions are reported during this cycle), so
// the ratio estimates the conversion rate without the dip that follows every
// rise in clicks. With `conversion_delay_fit_cycles` each series estimates
// that mean from its own first cycles (monitors::FitDelayFromCounts) instead.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/argument_checks.h"
#include "core/registry.h"
#include "strategies/monitors/lib/detectors.h"
#include "strategies/monitors/lib/series_detect.h"

namespace adsim::monitors {

// One cycle of a KPI for one series. Rates (ctr = clicks / impressions,
// cvr = conversions / clicks, win_rate = impressions / bids) carry counts;
// levels (requests, impressions, clicks, conversions, spend per cycle) carry
// the value alone.
struct KpiObservation {
  bool rate = true;
  double successes = 0.0, trials = 0.0;  // rates
  double value = 0.0;                    // the rate, or the level
};

// Default of the `conversion_delay_hours` parameter: no correction, because
// no delay suits every advertiser and a wrong one can do more harm than none
// (docs/monitoring.md, "Delayed conversions").
inline constexpr double kDefaultConversionDelayHours = 0.0;

const std::vector<std::string>& KpiMetrics();  // every metric name, rates first
bool IsRateMetric(const std::string& metric);

// The parameters every KPI monitor takes (metric, by_segment, side,
// min_trials, cooldown_cycles, gap_factor, severity, conversion_delay_hours,
// conversion_delay_fit_cycles), followed by `own`.
std::vector<ParamSpec> KpiParams(std::vector<ParamSpec> own, const std::string& default_side = "drop");
Side SideParam(const Params& params);

class KpiMonitor : public Monitor {
 public:
  explicit KpiMonitor(const BuildContext& ctx);
  void OnCycle(const Snapshot& snapshot, std::vector<Alert>* alerts) final;

 protected:
  // Every series gets the named detector `name` (NamedDetectors()) with
  // `params` over its defaults; side (from the `side` parameter), transform
  // (none: a cycle's count or spend can be 0) and cooldown_hours (from
  // cooldown_cycles) are set here. Checks the parameters now, naming the
  // monitor's field on error. Call it from the subclass constructor.
  void UseDetector(const BuildContext& ctx, const std::string& name, std::map<std::string, std::string> params);
  virtual std::string Describe() const = 0;  // for alert messages, e.g. "CUSUM h = 5"

  // A number as parameter text that reads back to the same double.
  static std::string ParamText(double value);
  // The score threshold equivalent to a standardised-residual limit z on the
  // armed side(s): 1 - P(|Z| >= z) for both sides, 1 - P(Z >= z) for one.
  static double ScoreOfZ(double z, Side side);

  const std::string& metric() const { return metric_; }
  double min_trials() const { return min_trials_; }

 private:
  using Key = std::tuple<int, int, int>;  // campaign, channel, segment (-1: all)
  struct Series {
    std::unique_ptr<SeriesDetector> detector;
    std::unique_ptr<MaturedClicks> matured;                     // cvr with a conversion delay (given or fitted) only
    double delay_hours = 0.0;                                   // the mean delay `matured` assumes
    std::vector<std::pair<ObservedStats, SimTime>> fit_window;  // counts and cycle end while the delay is fitted
    double fit_conversions = 0.0;
  };
  // A fit of the delay needs this many conversions in its window (it waits
  // for them beyond conversion_delay_fit_cycles).
  static constexpr double kMinFitConversions = 20.0;
  void Observe(const Snapshot& snap, int campaign, int channel, int segment, std::vector<Alert>* alerts);
  // Charts one cycle of a series (alerts == nullptr: update the detector only).
  // `time` is the end of the cycle the counts cover.
  void Chart(Series* sr, int campaign, int channel, int segment, const ObservedStats& sum, double matured_clicks,
             SimTime time, SimTime control_cycle, std::vector<Alert>* alerts);

  std::string metric_;
  bool by_segment_;
  double min_trials_;
  int cooldown_;
  std::string severity_;
  std::string detector_name_;
  std::map<std::string, std::string> detector_params_;
  double delay_hours_ = 0.0;
  int fit_cycles_ = 0;                 // > 0: the delay is estimated per series from its first cycles
  std::vector<double> delay_weights_;  // ReportingWeights for the control cycle; empty: no correction
  SimTime start_offset_in_week_;
  int64_t cycle_ = 0;
  std::map<Key, Series> series_;
};

}  // namespace adsim::monitors
