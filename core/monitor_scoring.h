// Scores monitors against the shocks the market injected (the truth no live
// system has): recall, precision, detection delay and false alarms.
#pragma once

#include <string>
#include <vector>

#include "core/scenario.h"
#include "core/strategy.h"

namespace adsim {

struct MonitorScore {
  std::string monitor;
  int64_t alerts = 0;             // alerts it raised
  int64_t true_alerts = 0;        // alerts inside a compatible shock window (shock start to end + grace)
  int64_t shocks = 0;             // shocks in the run
  int64_t detected = 0;           // shocks with at least one compatible alert in their window
  double recall = 0.0;            // detected / shocks (NaN without shocks)
  double precision = 0.0;         // true_alerts / alerts (NaN without alerts)
  double delay_median_min = 0.0;  // first compatible alert - shock start, minutes (NaN if none detected)
  double delay_p90_min = 0.0;
  double false_alarms_per_day = 0.0;  // alerts outside every shock window, per shock-free simulated day
  double shock_free_days = 0.0;
};

// An alert is compatible with a shock when its time lies in [start, end + grace)
// and its scope does not contradict the shock's: an alert on a channel (or
// segment) the shock does not touch is not explained by it; an alert with
// scope -1 (all) is compatible with any shock. Delays are the first
// compatible alert's time minus the shock's start. Shock-free time is the
// run's duration minus the union of every [start, end + grace) window.
std::vector<MonitorScore> ScoreMonitors(const std::vector<std::string>& monitors, const std::vector<Alert>& alerts,
                                        const std::vector<ShockSpec>& shocks, SimTime duration, SimTime grace);

}  // namespace adsim
