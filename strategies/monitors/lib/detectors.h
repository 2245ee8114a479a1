// adsim::monitors: anomaly detectors and forecasters for campaign monitoring,
// with no dependency on the engine. Registers nothing: the KPI monitors reach
// WindowTail and TrendDetector through series_detect.h (with SlotOf of
// SeasonalBaseline for the seasonal slot), pace_alert runs ForecastDay, and
// core/monitor_scoring scores their alerts against the injected shocks.
//
// Conventions used throughout:
//   - A detector sees one observation per control cycle, in time order, and
//     returns a DetectorResult from Update(). Nothing is allocated per update
//     once the detector is constructed (windows are fixed-size ring buffers).
//   - "Rate" observations are counts of successes out of trials (clicks out
//     of impressions, conversions out of clicks); their variance then follows
//     from the binomial model and need not be estimated.
//   - Parameters that can be unknown (an in-control mean, a standard
//     deviation) are NaN by default and then estimated during a warm-up; a
//     detector never fires during its warm-up or before its minimum evidence.
//   - Times are SimTime (int64 microseconds); money is a double named *_usd.
//   - Invalid arguments throw adsim::ConfigError naming the argument, the
//     expected range and the value found. Nothing is clamped silently.
// The formulas, their assumptions, where they fail and the tested run lengths
// are in docs/monitoring-detectors.md.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <vector>

#include "core/types.h"

namespace adsim::monitors {

inline constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();

// Which departures from the expectation raise an alarm.
enum class Side {
  kUpper,  // only x above its expectation (a spike)
  kLower,  // only x below its expectation (a drop)
  kBoth,
};

// Tail probability on the armed side(s) of a score whose upper tail
// probability is `upper` and lower tail `lower` (kBoth doubles the smaller,
// capped at 1). Shared by every detector of this folder.
double ArmedTail(Side side, double upper, double lower);

// What one update of a detector found, with enough state to explain it.
struct DetectorResult {
  int64_t step = 0;               // 1-based index of this update since construction
  double value = kUnknown;        // the observation (for rates: successes / trials)
  double expected = kUnknown;     // what the detector expected for it
  double statistic = 0.0;         // the charted quantity (EWMA value, CUSUM sums, slope, ...)
  double score = 0.0;             // standardised score, signed: > 0 means above expectation
  double threshold = 0.0;         // |score| (or the score on the armed side) must reach this to fire
  double lower_limit = kUnknown;  // control limits on `statistic`, when the detector has them
  double upper_limit = kUnknown;
  double p_value = kUnknown;  // tail probability, for detectors that compute one
  bool ready = false;         // past warm-up and minimum evidence: allowed to fire
  bool fired_upper = false;
  bool fired_lower = false;
  bool fired() const { return fired_upper || fired_lower; }
};

// ---------------------------------------------------------------------------
// 3. Seasonal baseline: the expectation of slot s (hour of day, hour of
// week, ...) is the median of the last `max_seasons` observations of the
// same slot, its scale 1.4826 MAD (consistent for the normal sd), and
//   score = (x - median) / max(1.4826 MAD, min_scale).
// It fires when |score| > threshold on the armed side, once the slot has at
// least `min_seasons` past observations. The current point joins the history
// after it is scored (so it never explains itself).
struct SeasonalParams {
  int period = 24;          // slots per season: 24 hour-of-day, 168 hour-of-week
  int min_seasons = 8;      // past observations of the slot needed before firing
  int max_seasons = 16;     // observations of the slot kept (a trailing window)
  double threshold = 5.0;   // robust z. Not 3.5 (Iglewicz & Hoaglin's rule for large
                            // samples): with 8 seasons the robust z of a normal
                            // point exceeds 3.5 4.7% of the time, 5.0 1.7%; see the docs
  double min_scale = 1e-9;  // floor for the scale, so a flat history cannot divide by 0
  Side side = Side::kBoth;
};

class SeasonalBaseline {
 public:
  explicit SeasonalBaseline(const SeasonalParams& params = {});
  // Observation for the slot (step - 1) mod period, step counting updates.
  DetectorResult Update(double x);
  // Observation for an explicit slot in [0, period).
  DetectorResult Update(double x, int slot);
  // Slot of a time for a daily or weekly period of hourly slots: hour of day
  // (period 24) or hour of week (period 168) of `t`, with t = 0 at
  // `offset_in_period` into the period.
  static int SlotOf(SimTime t, int period, SimTime offset_in_period = 0);

 private:
  SeasonalParams p_;
  std::vector<double> history_;  // period * max_seasons, ring per slot
  std::vector<int> count_;       // observations seen per slot
  std::vector<double> scratch_;  // max_seasons, for the medians
  int64_t step_ = 0;
};

// ---------------------------------------------------------------------------
// 4. Windowed Gaussian tail: mean m and sd s (denominator w - 1) of the last
// w observations, excluding the current one, z = (x - m) / s, and an alarm
// when the tail probability on the armed side (doubled for kBoth) is below
// `alpha`. With `predictive` the tail is that of the exact predictive
// distribution of a new i.i.d. normal point, z / sqrt(1 + 1/w) ~ t_{w-1}, so
// the per-step false alarm rate on i.i.d. normal data is exactly alpha; with
// the plain normal tail it is higher (s is estimated).
struct WindowTailParams {
  int window = 24;      // w >= 3
  double alpha = 1e-3;  // tail probability that fires
  bool predictive = true;
  Side side = Side::kBoth;
};

class WindowTail {
 public:
  explicit WindowTail(const WindowTailParams& params = {});
  DetectorResult Update(double x);

 private:
  WindowTailParams p_;
  std::vector<double> ring_;
  int64_t step_ = 0;
};

// ---------------------------------------------------------------------------
// 5. Trend: the OLS slope b of x on time over the last w points (including
// the current one), its standard error se(b) = s / sqrt(Sxx) with s^2 the
// residual variance on w - 2 df, and t = b / se(b) against Student t with
// w - 2 df (not Mann-Kendall: OLS has more power on a linear drift in
// Gaussian noise; Mann-Kendall is the robust choice for heavy tails). It
// fires when the one-sided p-value in the armed direction (doubled for kBoth)
// is below alpha. `statistic` is the slope per step, `score` the t value.
struct TrendParams {
  int window = 48;      // w >= 4
  double alpha = 0.01;  // significance level of the slope test at each step
  Side side = Side::kBoth;
};

class TrendDetector {
 public:
  explicit TrendDetector(const TrendParams& params = {});
  DetectorResult Update(double x);

 private:
  TrendParams p_;
  std::vector<double> ring_;
  int64_t step_ = 0;
};

// ---------------------------------------------------------------------------
// 6. Predictive pace alerts: end-of-day projections from today's pace.
//
// The day's expected traffic curve is given as the share of the day's
// traffic in each of `shares.size()` equal buckets (for example 24 hours);
// F(tau) is its cumulative, linear within a bucket. At elapsed share
// s = F(now), the pace projection of a total is so_far / s. Its prediction
// interval comes from a compound Poisson model: the day's events (billed
// clicks, conversions) form a Poisson process with intensity proportional
// to the curve, each event carrying an i.i.d. amount c. With n events and a
// sum of squared amounts Q = sum c^2 so far, the prediction error of the
// projected total has variance
//   Var(T - T_hat) = phi Q (1 - s) / s^2
// (the remaining amount's variance plus that of the rate estimate; phi >= 1
// inflates it for day-to-day overdispersion). For counts c = 1, Q = n.
struct TrafficCurve {
  std::vector<double> shares;  // >= 0, sum > 0 (normalised on construction)
  static TrafficCurve Uniform(int buckets);
  // Cumulative share F(time_of_day) in [0, 1]; time_of_day in [0, 1 day].
  double Elapsed(SimTime time_of_day) const;
  // Smallest time of day with F(time) >= share (share in [0, 1]).
  SimTime TimeAtShare(double share) const;
};

struct DayProgress {
  SimTime time_of_day = 0;          // now, since midnight of the account's day
  double spend_usd = 0.0;           // cumulative today
  double spend_sq_usd2 = kUnknown;  // sum of squared event costs; NaN: n * (spend / n)^2
  int64_t spend_events = 0;         // billed events so far (clicks or impressions)
  double conversions = 0.0;         // conversions reported today
  double value_usd = 0.0;           // conversion value reported today
  double value_sq_usd2 = kUnknown;  // sum of squared conversion values; NaN: equal values
};

struct PaceTargets {
  double daily_budget_usd = kUnknown;  // NaN: no budget alert
  double target_cpa_usd = kUnknown;    // NaN: no CPA alert
  double target_roas = kUnknown;       // NaN: no ROAS alert
  double confidence = 0.9;             // one-sided confidence that the breach happens
  double min_elapsed_share = 0.0;      // no alert before this share of traffic (0: from the first cycle;
                                       // early on the interval is wide, so an alert needs a strong pace)
  double min_conversions = 5;          // CPA / ROAS need this many conversions so far
  double overdispersion = 1.0;         // phi >= 1
};

struct PaceForecast {
  double elapsed_share = 0.0;
  double projected_spend_usd = 0.0, spend_low_usd = 0.0, spend_high_usd = 0.0;
  double projected_conversions = 0.0;
  double projected_value_usd = 0.0;
  double projected_cpa_usd = kUnknown, cpa_low_usd = kUnknown, cpa_high_usd = kUnknown;
  double projected_roas = kUnknown, roas_low = kUnknown, roas_high = kUnknown;
  // Time of day at which the projected cumulative spend reaches the budget;
  // kNever when it does not within the day; time_of_day if already spent.
  SimTime projected_exhaustion = kNever;
  bool ready = false;         // elapsed share >= min_elapsed_share
  bool budget_alert = false;  // P(total spend > budget) >= confidence
  bool cpa_alert = false;     // lower confidence bound of the CPA above target
  bool roas_alert = false;    // upper confidence bound of the ROAS below target
  bool fired() const { return budget_alert || cpa_alert || roas_alert; }
};

// Intervals are two-sided at level 2 confidence - 1 (each bound one-sided at
// `confidence`); CPA and ROAS bounds use the delta method on the log ratio,
// ignoring the (positive) covariance of spend and conversions, which widens
// them.
PaceForecast ForecastDay(const TrafficCurve& curve, const DayProgress& progress, const PaceTargets& targets);

// ---------------------------------------------------------------------------
// 7. Delayed conversions.
//
// A click converts eventually with probability p, after a delay with CDF
// F(d). A cohort of clicks at times c_i, looked at `now`, has reported on
// average a fraction mean_i F(now - c_i) of its eventual conversions;
// monitors compare reported conversions against p * clicks * that fraction
// ("expected so far") instead of p * clicks ("expected eventually").
using DelayCdf = std::function<double(double delay_hours)>;

// F(d) = 1 - exp(-d / mean) for d >= 0, 0 before.
DelayCdf ExponentialDelayCdf(double mean_hours);

double ExpectedReportedFraction(const DelayCdf& cdf, std::span<const SimTime> click_times, SimTime now);

// Conversions reported per control cycle, against the clicks that can have
// produced them. An advertiser counts the conversions *reported* during a
// cycle; they come from clicks of that cycle and of earlier ones. With clicks
// spread evenly over each cycle of length D, a click of cycle t - j reports
// its conversion (if any) during cycle t with probability
//   w_j = mean over the click's position u in [0, D) of
//         F((j + 1) D - u) - F(j D - u)          (F = 0 for negative delays),
// so E[conversions reported in cycle t] = p * sum_j w_j clicks_{t-j}: the
// "matured clicks" of cycle t. Their ratio is an unbiased estimate of the
// conversion rate p whatever the click volume does, where
// conversions_t / clicks_t is biased low while clicks rise (mornings, the
// start of a run) and high while they fall. The weights sum to 1; they are
// computed with ExpectedReportedFraction at `points` evenly spaced positions
// in the cycle and cut after the lag where less than `tail` of the delay
// mass is left (that remainder is dropped).
std::vector<double> ReportingWeights(const DelayCdf& cdf, SimTime cycle, double tail = 1e-4, int points = 16,
                                     int max_lags = 100000);

// The running sum sum_j w_j clicks_{t-j} over a fixed ring of past cycles
// (nothing is allocated after construction).
class MaturedClicks {
 public:
  explicit MaturedClicks(std::vector<double> weights);
  // Adds the clicks (or any other quantity: spend, for a cost per
  // conversion) of the cycle that just ended and returns its matured part:
  // the expected exposure of the conversions reported during that cycle.
  double Add(double clicks);
  const std::vector<double>& weights() const { return w_; }

 private:
  std::vector<double> w_, ring_;  // ring_[head_] is the newest cycle
  size_t head_ = 0;
};

// Censored exponential MLE for clicks known to convert: observed delays d_j
// and censoring times e_i (conversion not seen after e_i):
//   mean_hat = (sum d_j + sum e_i) / #observed,  se = mean_hat / sqrt(#observed).
struct DelayFit {
  double mean_hours = kUnknown;
  double mean_se = kUnknown;          // from the observed information
  double conversion_rate = kUnknown;  // p (only from FitDelayedConversions)
  double conversion_rate_se = kUnknown;
  int iterations = 0;
};
DelayFit CensoredExponentialMle(std::span<const double> observed_delays_hours, std::span<const double> censoring_hours);

// The mean of an exponential conversion delay from per-cycle counts alone,
// which is all a KPI monitor sees: clicks_t and the conversions reported
// during cycle t, t = 0 .. n - 1, no clicks before t = 0. Model:
// conversions_t ~ Poisson(p * matured_t(mu)), matured_t(mu) = sum_j w_j(mu)
// clicks_{t-j} (ReportingWeights). Profiling p out (p_hat = sum conversions /
// sum matured) leaves
//   l(mu) = sum_t conversions_t ln matured_t(mu) - C ln sum_t matured_t(mu),
// C = sum conversions, maximised over ln mu on a grid in [min_hours,
// max_hours] and refined by golden section; mean_se from the curvature of
// l in ln mu (se(mu) = mu * se(ln mu)). The delay is identified by how the
// conversions follow changes in the clicks (the start of the series, the
// daily rhythm); with flat clicks it is not. Needs a conversion and n >= 2.
DelayFit FitDelayFromCounts(std::span<const double> clicks, std::span<const double> conversions, SimTime cycle,
                            double min_hours = 0.05, double max_hours = 168.0);

// One click: when it happened and, if a conversion has been reported, when.
struct ClickRecord {
  SimTime click_time = 0;
  SimTime conversion_time = kNever;  // kNever: no conversion reported (yet)
};

// The delayed-feedback model of Chapelle (2014): each click converts with
// probability p after an exponential delay; a click without a reported
// conversion at `now` either never converts or has not yet. Joint MLE of p
// and the mean delay by EM (each click unconverted for e hours converts later
// with posterior probability p e^{-e/mu} / (1 - p + p e^{-e/mu})), standard
// errors from the observed information. Conversions reported after `now` are
// treated as not yet reported. Needs at least one reported conversion.
DelayFit FitDelayedConversions(std::span<const ClickRecord> clicks, SimTime now, int max_iterations = 5000,
                               double tolerance = 1e-10);

}  // namespace adsim::monitors
