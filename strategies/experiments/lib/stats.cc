// Implementation of adsim::stats; the formulas are documented in stats.h and
// docs/experiments-statistics.md.
#include "strategies/experiments/lib/stats.h"

#include <Eigen/Dense>
#include <algorithm>
#include <bit>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/tools/toms748_solve.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <sstream>
#include <utility>

#include "core/argument_checks.h"
#include "core/error.h"

namespace adsim::stats {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kInvSqrt2 = 0.70710678118654752440;

constexpr ArgumentChecks kArgs("adsim::stats");

double Density(double x) { return std::exp(-0.5 * x * x) * std::numbers::inv_sqrtpi * kInvSqrt2; }

double StudentCdf(double t, double df) {
  if (std::isinf(df)) return NormalCdf(t);
  return boost::math::cdf(boost::math::students_t(df), t);
}
// 1 - CDF without cancellation in the upper tail.
double StudentUpper(double t, double df) {
  if (std::isinf(df)) return NormalUpperTail(t);
  return boost::math::cdf(boost::math::complement(boost::math::students_t(df), t));
}
double StudentQuantile(double p, double df) {
  if (std::isinf(df)) return NormalQuantile(p);
  return boost::math::quantile(boost::math::students_t(df), p);
}

// Fills the p-values and intervals of a test from estimate, se and statistic.
DifferenceTest Finish(double estimate, double se, double statistic, double df, double alpha) {
  DifferenceTest r;
  r.estimate = estimate;
  r.std_error = se;
  r.statistic = statistic;
  r.df = df;
  r.p_greater = StudentUpper(statistic, df);
  r.p_less = StudentCdf(statistic, df);
  r.p_two_sided = std::min(1.0, 2.0 * std::min(r.p_greater, r.p_less));
  const double q2 = StudentQuantile(1.0 - alpha / 2.0, df);
  const double q1 = StudentQuantile(1.0 - alpha, df);
  r.ci_low = estimate - q2 * se;
  r.ci_high = estimate + q2 * se;
  r.lower_bound = estimate - q1 * se;
  r.upper_bound = estimate + q1 * se;
  return r;
}

void ValidateCounts(const ConversionCounts& c, const char* name) {
  if (c.users <= 0 || c.conversions < 0 || c.conversions > c.users)
    kArgs.Fail(name, "0 <= conversions <= users and users > 0",
               std::to_string(c.conversions) + " conversions of " + std::to_string(c.users) + " users");
}

// ---- Recursive numerical integration (Jennison & Turnbull 2000, ch. 19).

constexpr int kGridR = 32;  // 6r - 1 = 191 grid points before trimming

// Points and Simpson weights covering (lo, hi) for a normal density with mean
// `mean`: dense (spacing 3/(2r)) within mean +- 3, logarithmically sparser out
// to mean +- (3 + 4 ln r), trimmed to (lo, hi) with the ends added, and
// midpoints inserted so that each pair of intervals is one Simpson panel.
struct Grid {
  std::vector<double> z;
  std::vector<double> w;
};

Grid MakeGrid(double mean, double lo, double hi) {
  constexpr int r = kGridR;
  std::vector<double> x;
  x.reserve(6 * r - 1);
  for (int i = 1; i <= 6 * r - 1; ++i) {
    double v;
    if (i < r) {
      v = -3.0 - 4.0 * std::log(static_cast<double>(r) / i);
    } else if (i <= 5 * r) {
      v = -3.0 + 3.0 * (i - r) / (2.0 * r);
    } else {
      v = 3.0 + 4.0 * std::log(static_cast<double>(r) / (6 * r - i));
    }
    x.push_back(mean + v);
  }
  std::vector<double> odd;
  odd.reserve(x.size() + 2);
  if (lo > x.front()) odd.push_back(lo);
  for (double v : x)
    if (v > lo && v < hi) odd.push_back(v);
  if (hi < x.back()) odd.push_back(hi);
  Grid g;
  if (odd.size() < 2) return g;  // the continuation region holds no mass worth integrating
  const size_t m = odd.size();
  g.z.resize(2 * m - 1);
  g.w.assign(2 * m - 1, 0.0);
  for (size_t i = 0; i < m; ++i) g.z[2 * i] = odd[i];
  for (size_t i = 0; i + 1 < m; ++i) {
    const double d = odd[i + 1] - odd[i];
    g.z[2 * i + 1] = 0.5 * (odd[i] + odd[i + 1]);
    g.w[2 * i] += d / 6.0;
    g.w[2 * i + 1] += 4.0 * d / 6.0;
    g.w[2 * i + 2] += d / 6.0;
  }
  return g;
}

// The sub-density of Z_k on the continuation region of looks 1..k, carried
// from look to look.
class Recursion {
 public:
  explicit Recursion(double drift) : drift_(drift) {}

  // Probabilities of first crossing above b and below -b at a next look at
  // fraction t (having continued at every look so far).
  std::pair<double, double> Cross(double t, double b) const {
    if (looks_ == 0) {
      const double mean = drift_ * std::sqrt(t);
      return {NormalUpperTail(b - mean), NormalCdf(-b - mean)};
    }
    const double st = std::sqrt(t), sp = std::sqrt(t_prev_), dt = t - t_prev_, sdt = std::sqrt(dt);
    double up = 0.0, lo = 0.0;
    for (size_t j = 0; j < grid_.z.size(); ++j) {
      const double m = grid_.z[j] * sp + drift_ * dt;
      const double wh = grid_.w[j] * h_[j];
      up += wh * NormalUpperTail((b * st - m) / sdt);
      lo += wh * NormalCdf((-b * st - m) / sdt);
    }
    return {up, lo};
  }

  // Probability of reaching the next look (the mass of the current sub-density).
  double Mass() const {
    if (looks_ == 0) return 1.0;
    double s = 0.0;
    for (size_t j = 0; j < grid_.z.size(); ++j) s += grid_.w[j] * h_[j];
    return s;
  }

  // Moves to a look at fraction t with continuation region (-b, b).
  void Advance(double t, double b) {
    const double st = std::sqrt(t);
    Grid next = MakeGrid(drift_ * st, -b, b);
    std::vector<double> h(next.z.size(), 0.0);
    if (looks_ == 0) {
      for (size_t i = 0; i < next.z.size(); ++i) h[i] = Density(next.z[i] - drift_ * st);
    } else {
      const double sp = std::sqrt(t_prev_), dt = t - t_prev_, sdt = std::sqrt(dt);
      for (size_t i = 0; i < next.z.size(); ++i) {
        double s = 0.0;
        for (size_t j = 0; j < grid_.z.size(); ++j) {
          const double m = grid_.z[j] * sp + drift_ * dt;
          s += grid_.w[j] * h_[j] * Density((next.z[i] * st - m) / sdt);
        }
        h[i] = s * st / sdt;
      }
    }
    grid_ = std::move(next);
    h_ = std::move(h);
    t_prev_ = t;
    ++looks_;
  }

 private:
  double drift_;
  int looks_ = 0;
  double t_prev_ = 0.0;
  Grid grid_;
  std::vector<double> h_;
};

void ValidateFractions(const std::vector<double>& fractions) {
  if (fractions.empty()) kArgs.Fail("fractions", "at least one look", "none");
  double prev = 0.0;
  for (size_t k = 0; k < fractions.size(); ++k) {
    if (!(fractions[k] > prev) || !std::isfinite(fractions[k]))
      kArgs.Fail("fractions[" + std::to_string(k) + "]", "finite and greater than " + FormatNumber(prev),
                 FormatNumber(fractions[k]));
    prev = fractions[k];
  }
}

void ValidateBoundaries(const std::vector<double>& fractions, const std::vector<double>& b) {
  if (b.size() != fractions.size())
    kArgs.Fail("boundaries", std::to_string(fractions.size()) + " values (one per look)", std::to_string(b.size()));
  for (size_t k = 0; k < b.size(); ++k)
    if (!(b[k] >= 0.0))
      kArgs.Fail("boundaries[" + std::to_string(k) + "]", "a value >= 0 (or +inf)", FormatNumber(b[k]));
}

// Solves Cross(t, b) upper + lower = increment for b, the recursion sitting
// before the new look.
double SolveBoundary(const Recursion& rec, double t, double increment) {
  if (increment <= 1e-15) return kInf;
  auto f = [&](double b) {
    auto [u, l] = rec.Cross(t, b);
    return u + l - increment;
  };
  double lo = 0.0, hi = 40.0;
  if (f(lo) <= 0.0) return 0.0;  // spending more than is left: stop at this look for sure
  boost::uintmax_t iters = 200;
  auto root = boost::math::tools::toms748_solve(f, lo, hi, boost::math::tools::eps_tolerance<double>(48), iters);
  return 0.5 * (root.first + root.second);
}

}  // namespace

// ---------------------------------------------------------------------------

MeanSummary Summarize(std::span<const double> values) {
  if (values.size() < 2) kArgs.Fail("values", "at least 2 values", std::to_string(values.size()));
  MeanSummary s;
  s.n = static_cast<int64_t>(values.size());
  double sum = 0.0;
  for (double v : values) sum += v;
  s.mean = sum / s.n;
  double ss = 0.0;
  for (double v : values) ss += (v - s.mean) * (v - s.mean);
  s.sd = std::sqrt(ss / (s.n - 1));
  return s;
}

DifferenceTest TwoProportionZTest(const ConversionCounts& a, const ConversionCounts& b, double alpha) {
  kArgs.Probability(alpha, "alpha");
  ValidateCounts(a, "a");
  ValidateCounts(b, "b");
  const double na = a.users, nb = b.users;
  const double pa = a.conversions / na, pb = b.conversions / nb;
  const double pool = (a.conversions + b.conversions) / (na + nb);
  if (pool <= 0.0 || pool >= 1.0)
    kArgs.Fail("a, b", "at least one conversion and one non-conversion over both arms",
               "a pooled rate of " + FormatNumber(pool));
  const double se0 = std::sqrt(pool * (1.0 - pool) * (1.0 / na + 1.0 / nb));
  const double se = std::sqrt(pa * (1.0 - pa) / na + pb * (1.0 - pb) / nb);
  return Finish(pb - pa, se, (pb - pa) / se0, kInf, alpha);
}

DifferenceTest MeanDifferenceTest(const MeanSummary& a, const MeanSummary& b, double alpha, MeanTestKind kind) {
  kArgs.Probability(alpha, "alpha");
  for (const auto* s : {&a, &b}) {
    const char* name = s == &a ? "a" : "b";
    if (s->n < 2) kArgs.Fail(std::string(name) + ".n", "at least 2", std::to_string(s->n));
    if (!(s->sd >= 0.0) || !std::isfinite(s->sd))
      kArgs.Fail(std::string(name) + ".sd", "a finite value >= 0", FormatNumber(s->sd));
  }
  const double va = a.sd * a.sd / a.n, vb = b.sd * b.sd / b.n;
  const double se = std::sqrt(va + vb);
  if (!(se > 0.0)) kArgs.Fail("a.sd, b.sd", "at least one positive standard deviation", "both 0");
  double df = kInf;
  if (kind == MeanTestKind::kWelch) df = (va + vb) * (va + vb) / (va * va / (a.n - 1) + vb * vb / (b.n - 1));
  return Finish(b.mean - a.mean, se, (b.mean - a.mean) / se, df, alpha);
}

int64_t SampleSizeProportions(double baseline_rate, double mde, double alpha, double power) {
  kArgs.Probability(baseline_rate, "baseline_rate");
  kArgs.Probability(alpha, "alpha");
  kArgs.Probability(power, "power");
  const double p2 = baseline_rate + mde;
  if (mde == 0.0 || !(p2 > 0.0 && p2 < 1.0))
    kArgs.Fail("mde", "non-zero with baseline_rate + mde in (0, 1)", FormatNumber(mde));
  const double p1 = baseline_rate, pbar = 0.5 * (p1 + p2);
  const double za = NormalQuantile(1.0 - alpha / 2.0), zb = NormalQuantile(power);
  const double root = za * std::sqrt(2.0 * pbar * (1.0 - pbar)) + zb * std::sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return static_cast<int64_t>(std::ceil(root * root / (mde * mde)));
}

int64_t SampleSizeMeans(double sd, double mde, double alpha, double power) {
  kArgs.Positive(sd, "sd");
  kArgs.Probability(alpha, "alpha");
  kArgs.Probability(power, "power");
  if (mde == 0.0 || !std::isfinite(mde)) kArgs.Fail("mde", "a finite non-zero value", FormatNumber(mde));
  const double z = NormalQuantile(1.0 - alpha / 2.0) + NormalQuantile(power);
  return static_cast<int64_t>(std::ceil(2.0 * sd * sd * z * z / (mde * mde)));
}

// ---------------------------------------------------------------------------

std::vector<double> EqualFractions(int looks) {
  if (looks < 1) kArgs.Fail("looks", "at least 1", std::to_string(looks));
  std::vector<double> t(looks);
  for (int k = 0; k < looks; ++k) t[k] = static_cast<double>(k + 1) / looks;
  return t;
}

double CrossingProbabilities::Total() const {
  double s = 0.0;
  for (double v : upper) s += v;
  for (double v : lower) s += v;
  return s;
}

CrossingProbabilities Crossing(const std::vector<double>& fractions, const std::vector<double>& boundaries,
                               double drift) {
  ValidateFractions(fractions);
  ValidateBoundaries(fractions, boundaries);
  if (!std::isfinite(drift)) kArgs.Fail("drift", "a finite value", FormatNumber(drift));
  CrossingProbabilities out;
  Recursion rec(drift);
  for (size_t k = 0; k < fractions.size(); ++k) {
    auto [u, l] = rec.Cross(fractions[k], boundaries[k]);
    out.upper.push_back(u);
    out.lower.push_back(l);
    if (k + 1 < fractions.size()) rec.Advance(fractions[k], boundaries[k]);
  }
  return out;
}

SequentialDesign ClassicalDesign(BoundaryShape shape, const std::vector<double>& fractions, double alpha) {
  kArgs.Probability(alpha, "alpha");
  ValidateFractions(fractions);
  const size_t K = fractions.size();
  auto bounds = [&](double c) {
    std::vector<double> b(K);
    for (size_t k = 0; k < K; ++k)
      b[k] = shape == BoundaryShape::kPocock ? c : c * std::sqrt(fractions.back() / fractions[k]);
    return b;
  };
  auto f = [&](double c) { return Crossing(fractions, bounds(c), 0.0).Total() - alpha; };
  // The final boundary alone at z_{1-alpha/2} already spends alpha; by
  // Bonferroni, every boundary at z_{1-alpha/(2K)} spends at most alpha.
  const double lo = NormalQuantile(1.0 - alpha / 2.0);
  const double hi = NormalQuantile(1.0 - alpha / (2.0 * K)) + 1e-9;
  double c = lo;
  if (K > 1 && f(lo) > 0.0) {
    boost::uintmax_t iters = 200;
    auto root = boost::math::tools::toms748_solve(f, lo, hi, boost::math::tools::eps_tolerance<double>(48), iters);
    c = 0.5 * (root.first + root.second);
  }
  return {fractions, bounds(c), alpha};
}

double SpentAlpha(SpendingFunction f, double alpha, double t) {
  kArgs.Probability(alpha, "alpha");
  if (std::isnan(t)) kArgs.Fail("t", "a number", "NaN");
  if (t <= 0.0) return 0.0;
  if (t >= 1.0) return alpha;
  switch (f) {
    case SpendingFunction::kOBrienFleming:
      return 2.0 * (2.0 * NormalUpperTail(NormalQuantile(1.0 - alpha / 4.0) / std::sqrt(t)));
    case SpendingFunction::kOBrienFlemingTotal:
      return 2.0 * NormalUpperTail(NormalQuantile(1.0 - alpha / 2.0) / std::sqrt(t));
    case SpendingFunction::kPocock:
      return alpha * std::log(1.0 + (std::numbers::e - 1.0) * t);
  }
  return alpha;
}

SequentialDesign SpendingDesign(SpendingFunction f, const std::vector<double>& fractions, double alpha) {
  kArgs.Probability(alpha, "alpha");
  ValidateFractions(fractions);
  SequentialDesign d{fractions, {}, alpha};
  Recursion rec(0.0);
  double spent = 0.0;  // numerically computed crossing probability so far
  for (size_t k = 0; k < fractions.size(); ++k) {
    const double b = SolveBoundary(rec, fractions[k], SpentAlpha(f, alpha, fractions[k]) - spent);
    auto [u, l] = rec.Cross(fractions[k], b);
    spent += u + l;
    d.boundaries.push_back(b);
    if (k + 1 < fractions.size()) rec.Advance(fractions[k], b);
  }
  return d;
}

double NextSpendingBoundary(const std::vector<double>& fractions, const std::vector<double>& boundaries, double t_next,
                            double cumulative_alpha) {
  kArgs.Probability(cumulative_alpha, "cumulative_alpha");
  std::vector<double> all = fractions;
  all.push_back(t_next);
  ValidateFractions(all);
  ValidateBoundaries(fractions, boundaries);
  Recursion rec(0.0);
  double spent = 0.0;
  for (size_t k = 0; k < fractions.size(); ++k) {
    auto [u, l] = rec.Cross(fractions[k], boundaries[k]);
    spent += u + l;
    rec.Advance(fractions[k], boundaries[k]);
  }
  if (cumulative_alpha < spent - 1e-12)
    kArgs.Fail("cumulative_alpha", "at least the " + FormatNumber(spent) + " already spent",
               FormatNumber(cumulative_alpha));
  return SolveBoundary(rec, t_next, cumulative_alpha - spent);
}

SequentialDesign NaiveDesign(const std::vector<double>& fractions, double alpha) {
  kArgs.Probability(alpha, "alpha");
  ValidateFractions(fractions);
  return {fractions, std::vector<double>(fractions.size(), NormalQuantile(1.0 - alpha / 2.0)), alpha};
}

int FirstNaiveRejection(std::span<const double> z_values, double alpha) {
  kArgs.Probability(alpha, "alpha");
  const double c = NormalQuantile(1.0 - alpha / 2.0);
  for (size_t k = 0; k < z_values.size(); ++k)
    if (std::abs(z_values[k]) >= c) return static_cast<int>(k);
  return -1;
}

OperatingCharacteristics Evaluate(const SequentialDesign& design, double drift) {
  const CrossingProbabilities c = Crossing(design.fractions, design.boundaries, drift);
  const size_t K = design.fractions.size();
  OperatingCharacteristics oc;
  oc.reject_probability = c.Total();
  double stopped = 0.0;
  for (size_t k = 0; k < K; ++k) {
    const double p = k + 1 < K ? c.upper[k] + c.lower[k] : 1.0 - stopped;
    oc.stop_probability.push_back(p);
    stopped += p;
    oc.expected_fraction += p * design.fractions[k] / design.fractions.back();
  }
  return oc;
}

double DriftForPower(const SequentialDesign& design, double power) {
  kArgs.Probability(power, "power");
  auto f = [&](double d) { return Evaluate(design, d).reject_probability - power; };
  if (f(0.0) >= 0.0)
    kArgs.Fail("power", "more than the type I error " + FormatNumber(f(0.0) + power), FormatNumber(power));
  boost::uintmax_t iters = 200;
  auto root = boost::math::tools::toms748_solve(f, 0.0, 40.0, boost::math::tools::eps_tolerance<double>(40), iters);
  return 0.5 * (root.first + root.second);
}

double InflationFactor(const SequentialDesign& design, double power) {
  kArgs.Probability(design.alpha, "design.alpha");
  const double fixed = NormalQuantile(1.0 - design.alpha / 2.0) + NormalQuantile(power);
  const double d = DriftForPower(design, power);
  return (d / fixed) * (d / fixed);
}

// ---------------------------------------------------------------------------

MixtureSprt::MixtureSprt(double tau, double alpha, double null_difference)
    : tau2_(tau * tau), alpha_(alpha), null_difference_(null_difference), ci_low_(-kInf), ci_high_(kInf) {
  kArgs.Positive(tau, "tau");
  kArgs.Probability(alpha, "alpha");
  if (!std::isfinite(null_difference)) kArgs.Fail("null_difference", "a finite value", FormatNumber(null_difference));
}

void MixtureSprt::Update(double estimate, double variance) {
  if (!std::isfinite(estimate)) kArgs.Fail("estimate", "a finite value", FormatNumber(estimate));
  kArgs.Positive(variance, "variance");
  const double v = variance, diff = estimate - null_difference_;
  const double log_lr = 0.5 * std::log(v / (v + tau2_)) + tau2_ * diff * diff / (2.0 * v * (v + tau2_));
  likelihood_ratio_ = std::exp(log_lr);
  p_value_ = std::min(p_value_, std::exp(-log_lr));
  // Lambda(theta) < 1/alpha  <=>  (d - theta)^2 < 2 V (V + tau^2) / tau^2 (ln(1/alpha) + ln(sqrt((V + tau^2) / V))).
  const double radius =
      std::sqrt(2.0 * v * (v + tau2_) / tau2_ * (-std::log(alpha_) + 0.5 * std::log((v + tau2_) / v)));
  ci_low_ = std::max(ci_low_, estimate - radius);
  ci_high_ = std::min(ci_high_, estimate + radius);
  ++updates_;
}

namespace {
void ValidateOptions(const MsprtOptions& o, int64_t min_burn_in) {
  kArgs.Positive(o.tau, "tau");
  kArgs.Probability(o.alpha, "alpha");
  if (!(o.sigma >= 0.0) || !std::isfinite(o.sigma))
    kArgs.Fail("sigma", "0 (plug-in) or a finite value > 0", FormatNumber(o.sigma));
  if (o.burn_in < min_burn_in)
    kArgs.Fail("burn_in", "at least " + std::to_string(min_burn_in), std::to_string(o.burn_in));
}
}  // namespace

MeanMsprt::MeanMsprt(const MsprtOptions& options)
    : options_(options), test_(options.tau, options.alpha, options.null_difference) {
  ValidateOptions(options, options.sigma > 0.0 ? 1 : 2);
}

void MeanMsprt::Add(Arm arm, double value) {
  if (!std::isfinite(value)) kArgs.Fail("value", "a finite value", FormatNumber(value));
  Running& r = arm == Arm::kA ? a_ : b_;
  ++r.n;
  const double delta = value - r.mean;
  r.mean += delta / r.n;
  r.m2 += delta * (value - r.mean);
}

void MeanMsprt::Look() {
  if (a_.n < options_.burn_in || b_.n < options_.burn_in) return;
  double v;
  if (options_.sigma > 0.0) {
    v = options_.sigma * options_.sigma * (1.0 / a_.n + 1.0 / b_.n);
  } else {
    v = a_.m2 / (a_.n - 1) / a_.n + b_.m2 / (b_.n - 1) / b_.n;
  }
  if (v > 0.0) test_.Update(b_.mean - a_.mean, v);
}

void MeanMsprt::Observe(Arm arm, double value) {
  Add(arm, value);
  Look();
}

void MeanMsprt::ObservePair(double a, double b) {
  Add(Arm::kA, a);
  Add(Arm::kB, b);
  Look();
}

ProportionMsprt::ProportionMsprt(const MsprtOptions& options)
    : options_(options), test_(options.tau, options.alpha, options.null_difference) {
  ValidateOptions(options, 1);
  if (options.sigma != 0.0)
    kArgs.Fail("sigma", "0 (the variance is always plugged in for rates)", FormatNumber(options.sigma));
}

void ProportionMsprt::Look() {
  if (a_.users < options_.burn_in || b_.users < options_.burn_in) return;
  const double pa = static_cast<double>(a_.conversions) / a_.users;
  const double pb = static_cast<double>(b_.conversions) / b_.users;
  const double v = pa * (1.0 - pa) / a_.users + pb * (1.0 - pb) / b_.users;
  if (v > 0.0) test_.Update(pb - pa, v);
}

void ProportionMsprt::Observe(Arm arm, bool converted) {
  ConversionCounts& c = arm == Arm::kA ? a_ : b_;
  ++c.users;
  c.conversions += converted ? 1 : 0;
  Look();
}

void ProportionMsprt::ObservePair(bool a, bool b) {
  ++a_.users;
  a_.conversions += a ? 1 : 0;
  ++b_.users;
  b_.conversions += b ? 1 : 0;
  Look();
}

// ---------------------------------------------------------------------------

namespace {

void ValidateBeta(const BetaDistribution& d, const char* name) {
  if (!(d.a > 0.0) || !(d.b > 0.0) || !std::isfinite(d.a) || !std::isfinite(d.b))
    kArgs.Fail(name, "shape parameters a > 0 and b > 0", "a = " + FormatNumber(d.a) + ", b = " + FormatNumber(d.b));
}

constexpr double kMaxClosedFormTerms = 100000.0;

bool SmallInteger(double v) { return v == std::floor(v) && v <= kMaxClosedFormTerms; }

double LogBeta(double x, double y) {
  return boost::math::lgamma(x) + boost::math::lgamma(y) - boost::math::lgamma(x + y);
}

// P(Y > X) for X ~ x, Y ~ y with y.a a (small) integer: Evan Miller's sum
// with term_0 = B(aX, bX + bY) / B(aX, bX) and
// term_{i+1} / term_i = (aX + i)(bY + i) / ((aX + bX + bY + i)(1 + i)),
// summed in log space because term_0 can underflow for large counts.
double ClosedForm(const BetaDistribution& x, const BetaDistribution& y) {
  const int64_t n = static_cast<int64_t>(y.a);
  double log_term = LogBeta(x.a, x.b + y.b) - LogBeta(x.a, x.b);
  double max_log = log_term, scaled_sum = 1.0;  // sum = exp(max_log) * scaled_sum
  for (int64_t i = 0; i + 1 < n; ++i) {
    const double di = static_cast<double>(i);
    log_term += std::log((x.a + di) * (y.b + di) / ((x.a + x.b + y.b + di) * (1.0 + di)));
    if (log_term > max_log) {
      scaled_sum = scaled_sum * std::exp(max_log - log_term) + 1.0;
      max_log = log_term;
    } else {
      scaled_sum += std::exp(log_term - max_log);
    }
  }
  return std::min(1.0, std::exp(max_log + std::log(scaled_sum)));
}

// Adaptive Gauss-Kronrod (61 points) with an absolute error budget, split in
// halves until each piece meets its share. Boost's own adaptive routine uses
// a relative tolerance per call, which never settles on pieces whose integral
// is ~1e-20 (the far tails) and then bisects to its maximum depth.
template <class F>
double Integrate(const F& f, double a, double b, double abs_tol, int depth) {
  double error = 0.0;
  const double v = boost::math::quadrature::gauss_kronrod<double, 61>::integrate(f, a, b, 0, 0.0, &error);
  if (error <= abs_tol || depth == 0) return v;
  const double mid = 0.5 * (a + b);
  return Integrate(f, a, mid, abs_tol / 2, depth - 1) + Integrate(f, mid, b, abs_tol / 2, depth - 1);
}

// P(Y > X) = integral f_X(u) (1 - I_u(aY, bY)) du over the central 1 - 2e-16
// of X, split at quantiles of Y so that the step of Y's CDF, when Y is much
// narrower than X, falls on piece edges.
double Quadrature(const BetaDistribution& x, const BetaDistribution& y) {
  auto f = [&](double u) { return boost::math::ibeta_derivative(x.a, x.b, u) * boost::math::ibetac(y.a, y.b, u); };
  const double lo = boost::math::ibeta_inv(x.a, x.b, 1e-16), hi = boost::math::ibeta_inv(x.a, x.b, 1.0 - 1e-16);
  std::vector<double> cuts = {lo, hi};
  for (double q : {1e-12, 1e-6, 0.01, 0.5, 0.99, 1.0 - 1e-6, 1.0 - 1e-12}) {
    const double c = boost::math::ibeta_inv(y.a, y.b, q);
    if (c > lo && c < hi) cuts.push_back(c);
  }
  std::sort(cuts.begin(), cuts.end());
  double total = 0.0;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) total += Integrate(f, cuts[i], cuts[i + 1], 1e-13, 20);
  return std::clamp(total, 0.0, 1.0);
}

double BBeatsA(const BetaDistribution& a, const BetaDistribution& b) {
  if (SmallInteger(b.a)) return ClosedForm(a, b);
  if (SmallInteger(a.a)) return 1.0 - ClosedForm(b, a);  // ties have probability 0
  return Quadrature(a, b);
}

}  // namespace

BetaDistribution Posterior(const ConversionCounts& counts, const BetaDistribution& prior) {
  ValidateBeta(prior, "prior");
  if (counts.users < 0 || counts.conversions < 0 || counts.conversions > counts.users)
    kArgs.Fail("counts", "0 <= conversions <= users",
               std::to_string(counts.conversions) + " conversions of " + std::to_string(counts.users) + " users");
  return {prior.a + counts.conversions, prior.b + (counts.users - counts.conversions)};
}

double ProbabilityBBeatsA(const BetaDistribution& a, const BetaDistribution& b) {
  ValidateBeta(a, "a");
  ValidateBeta(b, "b");
  return BBeatsA(a, b);
}

ExpectedLoss ExpectedLosses(const BetaDistribution& a, const BetaDistribution& b) {
  ValidateBeta(a, "a");
  ValidateBeta(b, "b");
  // E[p_B 1{p_B > p_A}] = m_B P(Beta(aB + 1, bB) > p_A), since u f_{a,b}(u) = m f_{a+1,b}(u);
  // likewise E[p_A 1{p_B > p_A}] = m_A P(p_B > Beta(aA + 1, bA)).
  const double ma = a.a / (a.a + a.b), mb = b.a / (b.a + b.b);
  const double choose_a = mb * BBeatsA(a, {b.a + 1.0, b.b}) - ma * BBeatsA({a.a + 1.0, a.b}, b);
  // max(B - A, 0) - max(A - B, 0) = B - A.
  const double choose_b = choose_a - (mb - ma);
  // Rounding can leave -1e-17 where the loss is 0.
  return {std::max(0.0, choose_a), std::max(0.0, choose_b)};
}

// ---------------------------------------------------------------------------

CupedFit FitCuped(std::span<const double> y, std::span<const double> x) {
  if (y.size() != x.size())
    kArgs.Fail("x", std::to_string(y.size()) + " values (as many as y)", std::to_string(x.size()));
  if (y.size() < 2) kArgs.Fail("y", "at least 2 values", std::to_string(y.size()));
  const double n = static_cast<double>(y.size());
  double my = 0.0, mx = 0.0;
  for (size_t i = 0; i < y.size(); ++i) {
    my += y[i];
    mx += x[i];
  }
  my /= n;
  mx /= n;
  double sxx = 0.0, syy = 0.0, sxy = 0.0;
  for (size_t i = 0; i < y.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (!(sxx > 0.0)) kArgs.Fail("x", "a covariate that varies", "a constant");
  CupedFit fit;
  fit.theta = sxy / sxx;
  fit.x_mean = mx;
  fit.correlation = syy > 0.0 ? sxy / std::sqrt(sxx * syy) : 0.0;
  fit.variance_reduction = 1.0 - fit.correlation * fit.correlation;
  return fit;
}

std::vector<double> CupedAdjust(std::span<const double> y, std::span<const double> x, const CupedFit& fit) {
  if (y.size() != x.size())
    kArgs.Fail("x", std::to_string(y.size()) + " values (as many as y)", std::to_string(x.size()));
  std::vector<double> out(y.size());
  for (size_t i = 0; i < y.size(); ++i) out[i] = y[i] - fit.theta * (x[i] - fit.x_mean);
  return out;
}

// ---------------------------------------------------------------------------

FactorialFit FitFactorial(int factors, std::span<const FactorialObservation> data, int max_order, double alpha) {
  if (factors < 1 || factors > 16) kArgs.Fail("factors", "1 to 16", std::to_string(factors));
  if (max_order < 0 || max_order > factors)
    kArgs.Fail("max_order", "0 (all) to " + std::to_string(factors), std::to_string(max_order));
  kArgs.Probability(alpha, "alpha");
  const int order = max_order == 0 ? factors : max_order;
  const uint32_t cells = 1u << factors;

  // Terms ordered by interaction order, then lexicographically by factor.
  std::vector<uint32_t> terms;
  for (uint32_t m = 1; m < cells; ++m)
    if (std::popcount(m) <= order) terms.push_back(m);
  auto factor_list = [](uint32_t m) {
    std::vector<int> f;
    for (int j = 0; j < 32; ++j)
      if (m >> j & 1u) f.push_back(j);
    return f;
  };
  std::sort(terms.begin(), terms.end(), [&](uint32_t l, uint32_t r) {
    if (std::popcount(l) != std::popcount(r)) return std::popcount(l) < std::popcount(r);
    return factor_list(l) < factor_list(r);
  });
  const int p = 1 + static_cast<int>(terms.size());
  if (static_cast<int64_t>(data.size()) <= p)
    kArgs.Fail("data", "more than " + std::to_string(p) + " observations (one per coefficient)",
               std::to_string(data.size()));

  // +-1 coding: the column of term m is prod_{j in m} (+1 if factor j high else -1)
  // = (-1)^{number of factors of m at their low level}.
  std::vector<char> seen(cells, 0);
  Eigen::MatrixXd xtx = Eigen::MatrixXd::Zero(p, p);
  Eigen::VectorXd xty = Eigen::VectorXd::Zero(p);
  Eigen::VectorXd row(p);
  auto fill_row = [&](uint32_t cell) {
    row(0) = 1.0;
    for (int j = 0; j + 1 < p; ++j) row(j + 1) = (std::popcount(terms[j] & ~cell) % 2) ? -1.0 : 1.0;
  };
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i].cell >= cells)
      kArgs.Fail("data[" + std::to_string(i) + "].cell", "a bit mask below " + std::to_string(cells),
                 std::to_string(data[i].cell));
    if (!std::isfinite(data[i].y))
      kArgs.Fail("data[" + std::to_string(i) + "].y", "a finite value", FormatNumber(data[i].y));
    seen[data[i].cell] = 1;
    fill_row(data[i].cell);
    xtx.selfadjointView<Eigen::Lower>().rankUpdate(row);
    xty += row * data[i].y;
  }
  xtx = xtx.selfadjointView<Eigen::Lower>();
  if (order == factors) {
    for (uint32_t c = 0; c < cells; ++c)
      if (!seen[c])
        kArgs.Fail("data", "observations in every one of the " + std::to_string(cells) + " cells",
                   "none in cell " + std::to_string(c));
  }
  Eigen::LDLT<Eigen::MatrixXd> ldlt(xtx);
  if (ldlt.info() != Eigen::Success || ldlt.rcond() < 1e-12)
    kArgs.Fail("data", "a design in which every effect is estimable", "a singular design matrix");
  const Eigen::VectorXd beta = ldlt.solve(xty);
  const Eigen::MatrixXd inv = ldlt.solve(Eigen::MatrixXd::Identity(p, p));

  double rss = 0.0;
  for (const auto& obs : data) {
    fill_row(obs.cell);
    const double e = obs.y - row.dot(beta);
    rss += e * e;
  }
  FactorialFit fit;
  fit.df = static_cast<int64_t>(data.size()) - p;
  const double s2 = rss / fit.df;
  fit.residual_sd = std::sqrt(s2);
  fit.intercept = beta(0);
  const double q = StudentQuantile(1.0 - alpha / 2.0, static_cast<double>(fit.df));
  for (int j = 0; j + 1 < p; ++j) {
    FactorialEffect e;
    for (int f : factor_list(terms[j])) {
      if (!e.name.empty()) e.name += ':';
      e.name += static_cast<char>('A' + f);
    }
    e.factors = terms[j];
    e.effect = 2.0 * beta(j + 1);
    e.std_error = 2.0 * std::sqrt(s2 * inv(j + 1, j + 1));
    e.t = e.effect / e.std_error;
    e.p_value = 2.0 * StudentUpper(std::abs(e.t), static_cast<double>(fit.df));
    e.ci_low = e.effect - q * e.std_error;
    e.ci_high = e.effect + q * e.std_error;
    fit.effects.push_back(std::move(e));
  }
  return fit;
}

}  // namespace adsim::stats
