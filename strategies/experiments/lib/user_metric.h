// Metrics of an experiment analysed by user (the unit of randomization under
// split: user): each arm's metric is a ratio of per-user sums, sum(y) / sum(n),
// its variance comes from the delta method over users, and CUPED (Deng et al.
// 2013) reduces it with the same metric over the pre-period, when every user
// saw the control. See docs/experiments-statistics.md, section 10.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/strategy.h"

namespace adsim::experiments {

// Which counters make a user's numerator y and denominator n.
enum class UserMetric {
  kCtr,                    // clicks / impressions
  kCvr,                    // conversions / clicks
  kConversionRate,         // conversions / impressions
  kConversionsPerRequest,  // conversions / requests
  kClicksPerRequest,       // clicks / requests
  kValuePerRequest,        // conversion value / requests
  kConversionsPerUser,     // conversions / 1 (a mean over users)
  kClicksPerUser,          // clicks / 1
  kValuePerUser,           // conversion value / 1
};
// The metric's name as the ab_test parameter spells it; false when unknown.
bool ParseUserMetric(const std::string& name, UserMetric* out);

// Numerator y and denominator n of `metric` in a set of counters: a user's
// (UserCounts) or an arm's (ObservedStats); both name their fields alike.
template <class Counters>
void MetricParts(UserMetric metric, const Counters& c, double* y, double* n) {
  switch (metric) {
    case UserMetric::kCtr:
      *y = static_cast<double>(c.clicks), *n = static_cast<double>(c.impressions);
      return;
    case UserMetric::kCvr:
      *y = static_cast<double>(c.conversions), *n = static_cast<double>(c.clicks);
      return;
    case UserMetric::kConversionRate:
      *y = static_cast<double>(c.conversions), *n = static_cast<double>(c.impressions);
      return;
    case UserMetric::kConversionsPerRequest:
      *y = static_cast<double>(c.conversions), *n = static_cast<double>(c.requests);
      return;
    case UserMetric::kClicksPerRequest:
      *y = static_cast<double>(c.clicks), *n = static_cast<double>(c.requests);
      return;
    case UserMetric::kValuePerRequest:
      *y = static_cast<double>(c.conversion_value), *n = static_cast<double>(c.requests);
      return;
    case UserMetric::kConversionsPerUser:
      *y = static_cast<double>(c.conversions), *n = 1;
      return;
    case UserMetric::kClicksPerUser:
      *y = static_cast<double>(c.clicks), *n = 1;
      return;
    case UserMetric::kValuePerUser:
      *y = static_cast<double>(c.conversion_value), *n = 1;
      return;
  }
  *y = *n = 0;
}
// True for the per-user means (only meaningful analysed by user).
bool IsPerUserMetric(const std::string& name);

// One arm's exposed users (a request since the start), linearized for the
// delta method: lin_u = (y_u - ratio n_u) / mean(n), and the same over the
// pre-period (zero for a user not seen then).
struct ArmSample {
  int64_t users = 0;
  double y = 0, n = 0, ratio = 0;              // sums and their ratio (0 when n = 0)
  double pre_y = 0, pre_n = 0, pre_ratio = 0;  // the same users' pre-period
  std::vector<double> lin, pre_lin;
};
// Fills `out` (reusing its buffers) from the users exposed to `arm`.
void CollectArm(const ExperimentData& data, int arm, UserMetric metric, ArmSample* out);

// Arm against control by user.
struct UserComparison {
  double control = 0, arm = 0;  // the arms' ratios (unadjusted)
  double diff = 0;              // arm - control, CUPED-adjusted when asked and possible
  double var = 0;               // variance of diff
  double var_unadjusted = 0;    // variance of the plain difference of ratios
  double theta = 0;             // CUPED coefficient (0: not applied)
  double sd_control = 0;        // per-user sd of the control's (adjusted) linearized metric
  bool cuped_applied = false;
};
// Needs at least 2 users in each arm. CUPED is applied when `cuped` and the
// pre-period covariate varies; theta is fitted on both arms pooled.
UserComparison CompareArms(const ArmSample& control, const ArmSample& arm, bool cuped);

}  // namespace adsim::experiments
