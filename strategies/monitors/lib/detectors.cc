// Implementation of adsim::monitors; the formulas are documented in
// detectors.h and docs/monitoring-detectors.md.
#include "strategies/monitors/lib/detectors.h"

#include <Eigen/Dense>
#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <numeric>
#include <sstream>
#include <string>

#include "core/argument_checks.h"
#include "core/error.h"
#include "core/normal.h"

namespace adsim::monitors {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

constexpr ArgumentChecks kArgs("adsim::monitors");

double StudentUpper(double t, double df) {
  if (std::isinf(t)) return t > 0 ? 0.0 : 1.0;
  return boost::math::cdf(boost::math::complement(boost::math::students_t(df), t));
}

bool UpperArmed(Side s) { return s != Side::kLower; }
bool LowerArmed(Side s) { return s != Side::kUpper; }

// Deviation divided by a scale; a zero scale gives +-inf for any deviation.
double Standardise(double deviation, double scale) {
  if (scale > 0.0) return deviation / scale;
  if (deviation == 0.0) return 0.0;
  return deviation > 0.0 ? kInf : -kInf;
}

// Median of the first n values of v (reorders them).
double MedianInPlace(double* v, int n) {
  const int mid = n / 2;
  std::nth_element(v, v + mid, v + n);
  const double hi = v[mid];
  if (n % 2 == 1) return hi;
  const double lo = *std::max_element(v, v + mid);
  return 0.5 * (lo + hi);
}

}  // namespace

// Tail probability on the armed side(s) of a score whose upper tail
// probability is `upper` and lower tail `lower` (kBoth doubles the smaller).
double ArmedTail(Side side, double upper, double lower) {
  switch (side) {
    case Side::kUpper:
      return upper;
    case Side::kLower:
      return lower;
    case Side::kBoth:
      return std::min(1.0, 2.0 * std::min(upper, lower));
  }
  return 1.0;
}

// ---------------------------------------------------------------------------
// Seasonal baseline

SeasonalBaseline::SeasonalBaseline(const SeasonalParams& params) : p_(params) {
  kArgs.AtLeast(p_.period, 1, "SeasonalParams.period");
  kArgs.AtLeast(p_.min_seasons, 1, "SeasonalParams.min_seasons");
  kArgs.AtLeast(p_.max_seasons, std::max(p_.min_seasons, 1), "SeasonalParams.max_seasons (>= min_seasons)");
  kArgs.Positive(p_.threshold, "SeasonalParams.threshold");
  kArgs.NonNegative(p_.min_scale, "SeasonalParams.min_scale");
  history_.assign(static_cast<size_t>(p_.period) * p_.max_seasons, 0.0);
  count_.assign(p_.period, 0);
  scratch_.assign(p_.max_seasons, 0.0);
}

int SeasonalBaseline::SlotOf(SimTime t, int period, SimTime offset_in_period) {
  kArgs.AtLeast(period, 1, "period");
  const SimTime h = (t + offset_in_period) / kMicrosPerHour;
  const SimTime m = h % period;
  return static_cast<int>(m < 0 ? m + period : m);
}

DetectorResult SeasonalBaseline::Update(double x) { return Update(x, static_cast<int>(step_ % p_.period)); }

DetectorResult SeasonalBaseline::Update(double x, int slot) {
  if (slot < 0 || slot >= p_.period)
    kArgs.Fail("slot", "an integer in [0, " + std::to_string(p_.period) + ")", std::to_string(slot));
  DetectorResult r;
  r.step = ++step_;
  r.value = x;
  r.threshold = p_.threshold;
  double* ring = history_.data() + static_cast<size_t>(slot) * p_.max_seasons;
  const int n = std::min(count_[slot], p_.max_seasons);
  if (n > 0) {
    std::copy(ring, ring + n, scratch_.begin());
    const double median = MedianInPlace(scratch_.data(), n);
    for (int i = 0; i < n; ++i) scratch_[i] = std::abs(ring[i] - median);
    const double scale = std::max(1.4826 * MedianInPlace(scratch_.data(), n), p_.min_scale);
    r.expected = median;
    r.statistic = scale;  // the robust sd of the slot
    r.score = Standardise(x - median, scale);
    r.lower_limit = median - p_.threshold * scale;
    r.upper_limit = median + p_.threshold * scale;
    r.ready = n >= p_.min_seasons;
    r.fired_upper = r.ready && UpperArmed(p_.side) && r.score > p_.threshold;
    r.fired_lower = r.ready && LowerArmed(p_.side) && r.score < -p_.threshold;
  }
  ring[count_[slot] % p_.max_seasons] = x;
  ++count_[slot];
  return r;
}

// ---------------------------------------------------------------------------
// Windowed Gaussian tail

WindowTail::WindowTail(const WindowTailParams& params) : p_(params) {
  kArgs.AtLeast(p_.window, 3, "WindowTailParams.window");
  kArgs.Range(p_.alpha, 0.0, 1.0, true, true, "WindowTailParams.alpha");
  ring_.assign(p_.window, 0.0);
}

DetectorResult WindowTail::Update(double x) {
  DetectorResult r;
  r.value = x;
  r.threshold = p_.alpha;
  const int w = p_.window;
  if (step_ >= w) {
    const double mean = std::accumulate(ring_.begin(), ring_.end(), 0.0) / w;
    double ss = 0.0;
    for (double v : ring_) ss += (v - mean) * (v - mean);
    const double sd = std::sqrt(ss / (w - 1));
    r.expected = mean;
    r.statistic = sd;
    r.score = Standardise(x - mean, sd);
    double upper, lower;
    if (p_.predictive) {
      const double t = r.score / std::sqrt(1.0 + 1.0 / w);
      upper = StudentUpper(t, w - 1);
      lower = StudentUpper(-t, w - 1);
    } else {
      upper = NormalUpperTail(r.score);
      lower = NormalCdf(r.score);
    }
    r.p_value = ArmedTail(p_.side, upper, lower);
    r.ready = true;
    const bool fire = r.p_value < p_.alpha;
    r.fired_upper = fire && UpperArmed(p_.side) && r.score > 0;
    r.fired_lower = fire && LowerArmed(p_.side) && r.score < 0;
  }
  ring_[step_ % w] = x;
  r.step = ++step_;
  return r;
}

// ---------------------------------------------------------------------------
// Trend

TrendDetector::TrendDetector(const TrendParams& params) : p_(params) {
  kArgs.AtLeast(p_.window, 4, "TrendParams.window");
  kArgs.Range(p_.alpha, 0.0, 1.0, true, true, "TrendParams.alpha");
  ring_.assign(p_.window, 0.0);
}

DetectorResult TrendDetector::Update(double x) {
  const int w = p_.window;
  ring_[step_ % w] = x;
  ++step_;
  DetectorResult r;
  r.step = step_;
  r.value = x;
  r.threshold = p_.alpha;
  if (step_ < w) return r;
  // Oldest point at position 0, the current one at w - 1.
  const double tbar = 0.5 * (w - 1);
  const double sxx = w * (static_cast<double>(w) * w - 1.0) / 12.0;
  double ybar = 0.0;
  for (double v : ring_) ybar += v;
  ybar /= w;
  double sxy = 0.0, syy = 0.0;
  for (int i = 0; i < w; ++i) {
    const double y = ring_[(step_ + i) % w] - ybar;
    sxy += (i - tbar) * y;
    syy += y * y;
  }
  const double b = sxy / sxx;
  const double rss = std::max(0.0, syy - b * sxy);
  const double se = std::sqrt(rss / (w - 2) / sxx);
  r.statistic = b;
  r.expected = ybar + b * tbar;  // the fitted value at the current point
  r.score = Standardise(b, se);
  const double upper = StudentUpper(r.score, w - 2);
  const double lower = StudentUpper(-r.score, w - 2);
  r.p_value = ArmedTail(p_.side, upper, lower);
  r.ready = true;
  const bool fire = r.p_value < p_.alpha;
  r.fired_upper = fire && UpperArmed(p_.side) && b > 0;
  r.fired_lower = fire && LowerArmed(p_.side) && b < 0;
  return r;
}

// ---------------------------------------------------------------------------
// Pace forecasts

TrafficCurve TrafficCurve::Uniform(int buckets) {
  kArgs.AtLeast(buckets, 1, "buckets");
  return TrafficCurve{std::vector<double>(buckets, 1.0 / buckets)};
}

namespace {
double CurveTotal(const std::vector<double>& shares) {
  if (shares.empty()) kArgs.Fail("TrafficCurve.shares", "at least one bucket", "none");
  double total = 0.0;
  for (size_t i = 0; i < shares.size(); ++i) {
    if (!(shares[i] >= 0.0) || !std::isfinite(shares[i]))
      kArgs.Fail("TrafficCurve.shares[" + std::to_string(i) + "]", "a finite share >= 0", FormatNumber(shares[i]));
    total += shares[i];
  }
  if (!(total > 0.0)) kArgs.Fail("TrafficCurve.shares", "a positive sum", FormatNumber(total));
  return total;
}
}  // namespace

double TrafficCurve::Elapsed(SimTime time_of_day) const {
  const double total = CurveTotal(shares);
  if (time_of_day < 0 || time_of_day > kMicrosPerDay)
    kArgs.Fail("time_of_day", "a time in [0, 1 day] (microseconds)", std::to_string(time_of_day));
  const double pos = static_cast<double>(time_of_day) / kMicrosPerDay * static_cast<double>(shares.size());
  const size_t idx = std::min(static_cast<size_t>(pos), shares.size());
  double cum = 0.0;
  for (size_t i = 0; i < idx; ++i) cum += shares[i];
  if (idx < shares.size()) cum += (pos - static_cast<double>(idx)) * shares[idx];
  return std::min(1.0, cum / total);
}

SimTime TrafficCurve::TimeAtShare(double share) const {
  const double total = CurveTotal(shares);
  kArgs.Range(share, 0.0, 1.0, false, false, "share");
  const double target = share * total;
  const double width = static_cast<double>(kMicrosPerDay) / static_cast<double>(shares.size());
  double cum = 0.0;
  for (size_t i = 0; i < shares.size(); ++i) {
    if (shares[i] > 0.0 && cum + shares[i] >= target) {
      const double frac = std::max(0.0, (target - cum) / shares[i]);
      return static_cast<SimTime>(std::llround((static_cast<double>(i) + frac) * width));
    }
    cum += shares[i];
  }
  return kMicrosPerDay;
}

PaceForecast ForecastDay(const TrafficCurve& curve, const DayProgress& progress, const PaceTargets& targets) {
  kArgs.Range(targets.confidence, 0.5, 1.0, false, true, "PaceTargets.confidence");
  kArgs.Range(targets.min_elapsed_share, 0.0, 1.0, false, false, "PaceTargets.min_elapsed_share");
  kArgs.NonNegative(targets.min_conversions, "PaceTargets.min_conversions");
  if (!(targets.overdispersion >= 1.0))
    kArgs.Fail("PaceTargets.overdispersion", "a value >= 1", FormatNumber(targets.overdispersion));
  kArgs.NonNegative(progress.spend_usd, "DayProgress.spend_usd");
  kArgs.NonNegative(progress.conversions, "DayProgress.conversions");
  kArgs.NonNegative(progress.value_usd, "DayProgress.value_usd");
  if (progress.spend_events < 0)
    kArgs.Fail("DayProgress.spend_events", "a count >= 0", std::to_string(progress.spend_events));

  PaceForecast f;
  const double s = curve.Elapsed(progress.time_of_day);
  f.elapsed_share = s;
  const double budget = targets.daily_budget_usd;
  if (!std::isnan(budget) && progress.spend_usd >= budget) {
    f.projected_exhaustion = progress.time_of_day;
    f.budget_alert = true;  // a fact, not a projection
  }
  if (!(s > 0.0)) {
    f.projected_spend_usd = f.spend_low_usd = f.spend_high_usd = kUnknown;
    f.projected_conversions = f.projected_value_usd = kUnknown;
    return f;
  }
  const double z = NormalQuantile(targets.confidence);
  const double phi = targets.overdispersion;
  const auto n = static_cast<double>(progress.spend_events);
  const double spend = progress.spend_usd;
  const double q_spend =
      !std::isnan(progress.spend_sq_usd2) ? progress.spend_sq_usd2 : (n > 0 ? spend * spend / n : 0.0);
  const double var_spend = phi * q_spend * (1.0 - s) / (s * s);
  f.projected_spend_usd = spend / s;
  f.spend_low_usd = std::max(spend, f.projected_spend_usd - z * std::sqrt(var_spend));
  f.spend_high_usd = f.projected_spend_usd + z * std::sqrt(var_spend);

  const double conv = progress.conversions;
  const double var_conv = phi * conv * (1.0 - s) / (s * s);
  f.projected_conversions = conv / s;
  const double value = progress.value_usd;
  const double q_value =
      !std::isnan(progress.value_sq_usd2) ? progress.value_sq_usd2 : (conv > 0 ? value * value / conv : 0.0);
  const double var_value = phi * q_value * (1.0 - s) / (s * s);
  f.projected_value_usd = value / s;

  f.ready = s >= targets.min_elapsed_share;
  if (!std::isnan(budget)) {
    kArgs.Positive(budget, "PaceTargets.daily_budget_usd");
    if (spend < budget) {
      if (f.projected_spend_usd > budget)
        f.projected_exhaustion = curve.TimeAtShare(std::min(1.0, budget / f.projected_spend_usd));
      f.budget_alert = f.ready && f.spend_low_usd > budget;
    }
  }
  // Relative variances of the projected totals (delta method on logs).
  const double rel_spend =
      f.projected_spend_usd > 0 ? var_spend / (f.projected_spend_usd * f.projected_spend_usd) : 0.0;
  const double rel_conv =
      f.projected_conversions > 0 ? var_conv / (f.projected_conversions * f.projected_conversions) : 0.0;
  const double rel_value =
      f.projected_value_usd > 0 ? var_value / (f.projected_value_usd * f.projected_value_usd) : 0.0;
  const bool enough_conv = conv >= targets.min_conversions && conv > 0;
  if (enough_conv) {
    const double half = z * std::sqrt(rel_spend + rel_conv);
    f.projected_cpa_usd = f.projected_spend_usd / f.projected_conversions;
    f.cpa_low_usd = f.projected_cpa_usd * std::exp(-half);
    f.cpa_high_usd = f.projected_cpa_usd * std::exp(half);
    if (!std::isnan(targets.target_cpa_usd)) {
      kArgs.Positive(targets.target_cpa_usd, "PaceTargets.target_cpa_usd");
      f.cpa_alert = f.ready && f.cpa_low_usd > targets.target_cpa_usd;
    }
  }
  if (enough_conv && spend > 0 && value > 0) {
    const double half = z * std::sqrt(rel_spend + rel_value);
    f.projected_roas = f.projected_value_usd / f.projected_spend_usd;
    f.roas_low = f.projected_roas * std::exp(-half);
    f.roas_high = f.projected_roas * std::exp(half);
    if (!std::isnan(targets.target_roas)) {
      kArgs.Positive(targets.target_roas, "PaceTargets.target_roas");
      f.roas_alert = f.ready && f.roas_high < targets.target_roas;
    }
  }
  return f;
}

// ---------------------------------------------------------------------------
// Delayed conversions

DelayCdf ExponentialDelayCdf(double mean_hours) {
  kArgs.Positive(mean_hours, "mean_hours");
  return [mean_hours](double d) { return d <= 0.0 ? 0.0 : -std::expm1(-d / mean_hours); };
}

double ExpectedReportedFraction(const DelayCdf& cdf, std::span<const SimTime> click_times, SimTime now) {
  if (click_times.empty()) kArgs.Fail("click_times", "at least one click", "none");
  double sum = 0.0;
  for (size_t i = 0; i < click_times.size(); ++i) {
    if (click_times[i] > now)
      kArgs.Fail("click_times[" + std::to_string(i) + "]", "a time <= now (" + std::to_string(now) + ")",
                 std::to_string(click_times[i]));
    sum += cdf(static_cast<double>(now - click_times[i]) / kMicrosPerHour);
  }
  return sum / static_cast<double>(click_times.size());
}

std::vector<double> ReportingWeights(const DelayCdf& cdf, SimTime cycle, double tail, int points, int max_lags) {
  if (!cdf) kArgs.Fail("cdf", "a delay CDF", "an empty function");
  if (cycle <= 0) kArgs.Fail("cycle", "a duration > 0 microseconds", std::to_string(cycle));
  if (!(tail > 0.0 && tail < 1.0)) kArgs.Fail("tail", "a share in (0, 1)", FormatNumber(tail));
  if (points < 1) kArgs.Fail("points", "at least 1", std::to_string(points));
  if (max_lags < 1) kArgs.Fail("max_lags", "at least 1", std::to_string(max_lags));
  // Click positions in a cycle starting at 0: the mid-points of `points` equal parts.
  std::vector<SimTime> clicks(static_cast<size_t>(points));
  for (int i = 0; i < points; ++i) clicks[static_cast<size_t>(i)] = (2 * i + 1) * cycle / (2 * points);
  std::vector<double> w;
  double reported_before = 0.0;  // share reported before the start of cycle j (0 for j = 0)
  for (int j = 0; j < max_lags; ++j) {
    const double reported_by_end = ExpectedReportedFraction(cdf, clicks, (j + 1) * cycle);
    w.push_back(std::max(0.0, reported_by_end - reported_before));
    reported_before = reported_by_end;
    if (1.0 - reported_by_end < tail) break;
  }
  return w;
}

MaturedClicks::MaturedClicks(std::vector<double> weights) : w_(std::move(weights)), ring_(w_.size(), 0.0) {
  if (w_.empty()) kArgs.Fail("weights", "at least one weight", "none");
}

double MaturedClicks::Add(double clicks) {
  if (!(clicks >= 0.0) || !std::isfinite(clicks)) kArgs.Fail("clicks", "a finite count >= 0", FormatNumber(clicks));
  head_ = head_ == 0 ? ring_.size() - 1 : head_ - 1;
  ring_[head_] = clicks;
  double sum = 0.0;
  const size_t n = ring_.size();
  for (size_t j = 0; j < n; ++j) sum += w_[j] * ring_[(head_ + j) % n];
  return sum;
}

namespace {

// l(mu) of FitDelayFromCounts (without its constant).
double CountsLogLikelihood(std::span<const double> clicks, std::span<const double> conversions, SimTime cycle,
                           double mean_hours) {
  const std::vector<double> w =
      ReportingWeights(ExponentialDelayCdf(mean_hours), cycle, 1e-9, 16, static_cast<int>(clicks.size()));
  double ll = 0.0, total = 0.0, conv = 0.0;
  for (size_t t = 0; t < clicks.size(); ++t) {
    double matured = 0.0;
    for (size_t j = 0; j <= t && j < w.size(); ++j) matured += w[j] * clicks[t - j];
    if (conversions[t] > 0) {
      if (matured <= 0.0) return -kInf;
      ll += conversions[t] * std::log(matured);
    }
    total += matured;
    conv += conversions[t];
  }
  return total > 0.0 ? ll - conv * std::log(total) : -kInf;
}

}  // namespace

DelayFit FitDelayFromCounts(std::span<const double> clicks, std::span<const double> conversions, SimTime cycle,
                            double min_hours, double max_hours) {
  if (clicks.size() != conversions.size())
    kArgs.Fail("conversions", "one count per cycle of clicks (" + std::to_string(clicks.size()) + ")",
               std::to_string(conversions.size()));
  if (clicks.size() < 2) kArgs.Fail("clicks", "at least 2 cycles", std::to_string(clicks.size()));
  if (cycle <= 0) kArgs.Fail("cycle", "a duration > 0 microseconds", std::to_string(cycle));
  kArgs.Positive(min_hours, "min_hours");
  if (!(max_hours > min_hours)) kArgs.Fail("max_hours", "more than min_hours", FormatNumber(max_hours));
  double conv = 0.0;
  for (size_t t = 0; t < clicks.size(); ++t) {
    if (!(clicks[t] >= 0.0) || !(conversions[t] >= 0.0))
      kArgs.Fail("counts[" + std::to_string(t) + "]", "counts >= 0",
                 FormatNumber(clicks[t]) + " clicks, " + FormatNumber(conversions[t]) + " conversions");
    conv += conversions[t];
  }
  if (conv <= 0.0) kArgs.Fail("conversions", "at least one reported conversion", "none");
  const auto ll = [&](double log_mu) { return CountsLogLikelihood(clicks, conversions, cycle, std::exp(log_mu)); };
  const double lo = std::log(min_hours), hi = std::log(max_hours);
  const int grid = 48;
  int best = 0;
  double best_ll = -kInf;
  for (int i = 0; i <= grid; ++i) {
    const double v = ll(lo + (hi - lo) * i / grid);
    if (v > best_ll) best_ll = v, best = i;
  }
  // Golden section between the grid neighbours of the best point.
  double a = lo + (hi - lo) * std::max(0, best - 1) / grid, b = lo + (hi - lo) * std::min(grid, best + 1) / grid;
  const double g = 0.5 * (std::sqrt(5.0) - 1.0);
  double x1 = b - g * (b - a), x2 = a + g * (b - a), f1 = ll(x1), f2 = ll(x2);
  DelayFit fit;
  for (fit.iterations = 0; fit.iterations < 60 && b - a > 1e-6; ++fit.iterations) {
    if (f1 >= f2) {
      b = x2, x2 = x1, f2 = f1, x1 = b - g * (b - a), f1 = ll(x1);
    } else {
      a = x1, x1 = x2, f1 = f2, x2 = a + g * (b - a), f2 = ll(x2);
    }
  }
  const double log_mu = 0.5 * (a + b);
  fit.mean_hours = std::exp(log_mu);
  // Curvature in ln mu by central differences; se(mu) = mu se(ln mu).
  const double h = 0.01, c0 = ll(log_mu), cm = ll(log_mu - h), cp = ll(log_mu + h);
  const double curvature = -(cp - 2.0 * c0 + cm) / (h * h);
  fit.mean_se = curvature > 0.0 ? fit.mean_hours / std::sqrt(curvature) : kInf;
  // p_hat = C / sum matured at the estimate.
  const std::vector<double> w =
      ReportingWeights(ExponentialDelayCdf(fit.mean_hours), cycle, 1e-9, 16, static_cast<int>(clicks.size()));
  double matured_total = 0.0;
  for (size_t t = 0; t < clicks.size(); ++t)
    for (size_t j = 0; j <= t && j < w.size(); ++j) matured_total += w[j] * clicks[t - j];
  fit.conversion_rate = conv / matured_total;
  fit.conversion_rate_se = std::sqrt(conv) / matured_total;  // Poisson, mu taken as known
  return fit;
}

DelayFit CensoredExponentialMle(std::span<const double> observed_delays_hours,
                                std::span<const double> censoring_hours) {
  if (observed_delays_hours.empty()) kArgs.Fail("observed_delays_hours", "at least one observed delay", "none");
  double total = 0.0;
  for (double d : observed_delays_hours) {
    kArgs.NonNegative(d, "observed_delays_hours[]");
    total += d;
  }
  for (double c : censoring_hours) {
    kArgs.NonNegative(c, "censoring_hours[]");
    total += c;
  }
  DelayFit fit;
  const auto n = static_cast<double>(observed_delays_hours.size());
  fit.mean_hours = total / n;
  fit.mean_se = fit.mean_hours / std::sqrt(n);
  return fit;
}

namespace {
// Log-likelihood of the delayed-feedback model per the header.
double DelayLogLik(double p, double mu, double n_conv, double sum_delay, const std::vector<double>& elapsed) {
  double ll = n_conv * (std::log(p) - std::log(mu)) - sum_delay / mu;
  for (double e : elapsed) ll += std::log1p(-p * -std::expm1(-e / mu));
  return ll;
}
}  // namespace

DelayFit FitDelayedConversions(std::span<const ClickRecord> clicks, SimTime now, int max_iterations, double tolerance) {
  kArgs.AtLeast(max_iterations, 1, "max_iterations");
  kArgs.Positive(tolerance, "tolerance");
  double n_conv = 0.0, sum_delay = 0.0;
  std::vector<double> elapsed;
  elapsed.reserve(clicks.size());
  for (size_t i = 0; i < clicks.size(); ++i) {
    const ClickRecord& c = clicks[i];
    if (c.click_time > now)
      kArgs.Fail("clicks[" + std::to_string(i) + "].click_time", "a time <= now", std::to_string(c.click_time));
    if (c.conversion_time != kNever && c.conversion_time < c.click_time)
      kArgs.Fail("clicks[" + std::to_string(i) + "].conversion_time", "a time >= click_time",
                 std::to_string(c.conversion_time));
    if (c.conversion_time <= now) {
      n_conv += 1.0;
      sum_delay += static_cast<double>(c.conversion_time - c.click_time) / kMicrosPerHour;
    } else {
      elapsed.push_back(static_cast<double>(now - c.click_time) / kMicrosPerHour);
    }
  }
  if (n_conv < 1.0) kArgs.Fail("clicks", "at least one reported conversion", "none");
  const double total = n_conv + static_cast<double>(elapsed.size());
  // Start from the naive estimates (both biased low) and iterate EM.
  double p = n_conv / total;
  double mu = std::max(sum_delay / n_conv, 1e-6);
  DelayFit fit;
  for (int it = 1; it <= max_iterations; ++it) {
    double w_sum = 0.0, w_time = 0.0;
    for (double e : elapsed) {
      const double surv = std::exp(-e / mu);
      const double w = p * surv / (1.0 - p + p * surv);
      w_sum += w;
      w_time += w * (e + mu);
    }
    const double p_new = std::min((n_conv + w_sum) / total, 1.0);
    const double mu_new = (sum_delay + w_time) / (n_conv + w_sum);
    const bool done = std::abs(p_new - p) <= tolerance * p && std::abs(mu_new - mu) <= tolerance * mu;
    p = p_new;
    mu = mu_new;
    fit.iterations = it;
    if (done) break;
  }
  fit.conversion_rate = p;
  fit.mean_hours = mu;
  // Observed information by central differences of the log-likelihood.
  if (p < 1.0) {
    const double hp = 1e-4 * std::min(p, 1.0 - p), hm = 1e-4 * mu;
    auto ll = [&](double a, double b) { return DelayLogLik(a, b, n_conv, sum_delay, elapsed); };
    const double f0 = ll(p, mu);
    const double fpp = (ll(p + hp, mu) - 2 * f0 + ll(p - hp, mu)) / (hp * hp);
    const double fmm = (ll(p, mu + hm) - 2 * f0 + ll(p, mu - hm)) / (hm * hm);
    const double fpm =
        (ll(p + hp, mu + hm) - ll(p + hp, mu - hm) - ll(p - hp, mu + hm) + ll(p - hp, mu - hm)) / (4 * hp * hm);
    const double det = fpp * fmm - fpm * fpm;
    if (det > 0.0 && fpp < 0.0) {
      fit.conversion_rate_se = std::sqrt(-fmm / det);
      fit.mean_se = std::sqrt(-fpp / det);
    }
  }
  return fit;
}

}  // namespace adsim::monitors
