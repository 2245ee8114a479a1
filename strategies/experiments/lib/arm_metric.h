// What the experiment analyses (ab_test, factorial_test) share: the rate
// metrics as (trials, successes) of an arm's observed counters, the check
// that an analysis sits under an experiment, and number formatting for notes.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/registry.h"
#include "strategies/experiments/lib/user_metric.h"

namespace adsim::experiments {

// The rate metrics both analyses accept, in the order `adsim list` shows them.
inline const std::vector<std::string>& RateMetrics() {
  static const std::vector<std::string> m = {"ctr", "cvr", "conversion_rate", "conversions_per_request",
                                             "clicks_per_request"};
  return m;
}

// Trials (n) and successes (x <= n) of `metric` (one of RateMetrics()) in `s`.
inline void RateCounts(const std::string& metric, const ObservedStats& s, int64_t* n, int64_t* x) {
  UserMetric m = UserMetric::kConversionsPerRequest;
  ParseUserMetric(metric, &m);
  double y = 0, d = 0;
  MetricParts(m, s, &y, &d);
  *n = static_cast<int64_t>(d);
  *x = std::min(static_cast<int64_t>(y), *n);
}

// The experiment an analysis was built for; a ConfigError when there is none.
inline const ExperimentSpec& ExperimentOf(const BuildContext& ctx) {
  if (ctx.scenario == nullptr || ctx.experiment < 0 ||
      ctx.experiment >= static_cast<int>(ctx.scenario->experiments.size()))
    throw ConfigError({{ctx.scenario ? ctx.scenario->source_name : "", ctx.where, 0,
                        "an analysis listed under experiments[i].analyses", "no experiment"}});
  return ctx.scenario->experiments[ctx.experiment];
}

inline std::string Fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace adsim::experiments
