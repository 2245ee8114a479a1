#include "strategies/experiments/lib/user_metric.h"

#include <algorithm>
#include <cmath>

#include "strategies/experiments/lib/stats.h"

namespace adsim::experiments {
namespace {

struct Metric {
  const char* name;
  UserMetric kind;
  bool per_user;
};
constexpr Metric kMetrics[] = {
    {"ctr", UserMetric::kCtr, false},
    {"cvr", UserMetric::kCvr, false},
    {"conversion_rate", UserMetric::kConversionRate, false},
    {"conversions_per_request", UserMetric::kConversionsPerRequest, false},
    {"clicks_per_request", UserMetric::kClicksPerRequest, false},
    {"value_per_request", UserMetric::kValuePerRequest, false},
    {"conversions_per_user", UserMetric::kConversionsPerUser, true},
    {"clicks_per_user", UserMetric::kClicksPerUser, true},
    {"value_per_user", UserMetric::kValuePerUser, true},
};

double SampleVariance(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  double m = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return ss / static_cast<double>(v.size() - 1);
}

}  // namespace

bool ParseUserMetric(const std::string& name, UserMetric* out) {
  for (const Metric& m : kMetrics)
    if (name == m.name) {
      *out = m.kind;
      return true;
    }
  return false;
}

bool IsPerUserMetric(const std::string& name) {
  for (const Metric& m : kMetrics)
    if (name == m.name) return m.per_user;
  return false;
}

void CollectArm(const ExperimentData& data, int arm, UserMetric metric, ArmSample* out) {
  const std::vector<int64_t>& rows = data.exposed[arm];
  const std::vector<UserCounts>& in = data.arm[arm];
  ArmSample& s = *out;
  s.users = static_cast<int64_t>(rows.size());
  s.y = s.n = s.pre_y = s.pre_n = 0;
  for (int64_t r : rows) {
    double y = 0, n = 0;
    MetricParts(metric, in[r], &y, &n);
    s.y += y, s.n += n;
    // A per-user mean's pre-period value is the user's pre-period count, 0 if unseen.
    MetricParts(metric, data.pre[r], &y, &n);
    s.pre_y += y, s.pre_n += n;
  }
  s.ratio = s.n > 0 ? s.y / s.n : 0.0;
  s.pre_ratio = s.pre_n > 0 ? s.pre_y / s.pre_n : 0.0;
  const double mean_n = s.users > 0 ? s.n / static_cast<double>(s.users) : 0.0;
  const double mean_pre_n = s.users > 0 ? s.pre_n / static_cast<double>(s.users) : 0.0;
  s.lin.resize(rows.size());
  s.pre_lin.resize(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    double y = 0, n = 0;
    MetricParts(metric, in[rows[i]], &y, &n);
    s.lin[i] = mean_n > 0 ? (y - s.ratio * n) / mean_n : 0.0;
    MetricParts(metric, data.pre[rows[i]], &y, &n);
    s.pre_lin[i] = mean_pre_n > 0 ? (y - s.pre_ratio * n) / mean_pre_n : 0.0;
  }
}

UserComparison CompareArms(const ArmSample& control, const ArmSample& arm, bool cuped) {
  UserComparison q;
  q.control = control.ratio;
  q.arm = arm.ratio;
  q.diff = arm.ratio - control.ratio;
  const double nc = static_cast<double>(std::max<int64_t>(control.users, 1));
  const double na = static_cast<double>(std::max<int64_t>(arm.users, 1));
  const double vc = SampleVariance(control.lin), va = SampleVariance(arm.lin);
  q.var = q.var_unadjusted = vc / nc + va / na;
  q.sd_control = std::sqrt(vc);
  if (!cuped || control.users < 2 || arm.users < 2) return q;
  // theta on both arms pooled: within each arm lin and pre_lin have mean 0.
  std::vector<double> y(control.lin), x(control.pre_lin);
  y.insert(y.end(), arm.lin.begin(), arm.lin.end());
  x.insert(x.end(), arm.pre_lin.begin(), arm.pre_lin.end());
  if (!(SampleVariance(x) > 0)) return q;  // no pre-period evidence: nothing to adjust with
  const stats::CupedFit fit = stats::FitCuped(y, x);
  auto adjusted_var = [&](const ArmSample& s) {
    return SampleVariance(stats::CupedAdjust(s.lin, s.pre_lin, {fit.theta, 0.0, 0.0, 1.0}));
  };
  const double avc = adjusted_var(control), ava = adjusted_var(arm);
  q.theta = fit.theta;
  q.diff -= fit.theta * (arm.pre_ratio - control.pre_ratio);
  q.var = avc / nc + ava / na;
  q.sd_control = std::sqrt(avc);
  q.cuped_applied = true;
  return q;
}

}  // namespace adsim::experiments
