// adsim::stats: the statistics of rapid A/B testing, with no dependency on the
// engine. Registers nothing: the experiment analyses (strategies/experiments/
// ab_test_analysis.cc, factorial_test_analysis.cc) run it on campaign
// experiments, and validation.h and bench/experiment_validation.cc measure it.
//
// Conventions used throughout:
//   - Arm A is the control, arm B the treatment; every difference is B - A.
//   - alpha is a two-sided significance level in (0, 1) unless a name says
//     otherwise; power is in (0, 1).
//   - Invalid arguments (alpha outside (0, 1), negative counts, fractions that
//     do not increase, ...) throw adsim::ConfigError naming the argument, the
//     expected range and the value found. Nothing is clamped silently.
// The formulas, their assumptions and where they fail are in
// docs/experiments-statistics.md.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/normal.h"

namespace adsim::stats {

// ---------------------------------------------------------------------------
// The standard normal CDF and quantile are the project's (core/normal.h),
// also known here as stats::NormalCdf and stats::NormalQuantile.
using ::adsim::NormalCdf;
using ::adsim::NormalQuantile;

// ---------------------------------------------------------------------------
// 1. Fixed-horizon tests and sample sizes.

// Conversions out of users in one arm.
struct ConversionCounts {
  int64_t conversions = 0;
  int64_t users = 0;
};

// Summary of a continuous metric in one arm: mean, sample standard deviation
// (denominator n - 1) and number of observations.
struct MeanSummary {
  double mean = 0.0;
  double sd = 0.0;
  int64_t n = 0;
};

// Mean, sample standard deviation and count of `values` (at least 2 values).
MeanSummary Summarize(std::span<const double> values);

// The result of a fixed-horizon test of the difference B - A.
struct DifferenceTest {
  double estimate = 0.0;     // B - A
  double std_error = 0.0;    // unpooled standard error, used for the intervals
  double statistic = 0.0;    // z (or Welch t) used for the p-values
  double df = 0.0;           // degrees of freedom; +infinity for a z-test
  double p_two_sided = 1.0;  // H1: B != A
  double p_greater = 0.5;    // H1: B > A
  double p_less = 0.5;       // H1: B < A
  double ci_low = 0.0;       // two-sided 1 - alpha interval
  double ci_high = 0.0;
  double lower_bound = 0.0;  // one-sided 1 - alpha lower bound (goes with p_greater)
  double upper_bound = 0.0;  // one-sided 1 - alpha upper bound (goes with p_less)
};

// Two-proportion z-test. The statistic uses the pooled rate under H0,
//   z = (pB - pA) / sqrt(p (1 - p) (1/nA + 1/nB)),  p = (xA + xB) / (nA + nB);
// the confidence intervals use the unpooled (Wald) standard error
//   sqrt(pA (1 - pA) / nA + pB (1 - pB) / nB).
// Needs users > 0 in both arms and 0 < p < 1 (otherwise z is 0/0).
DifferenceTest TwoProportionZTest(const ConversionCounts& a, const ConversionCounts& b, double alpha = 0.05);

enum class MeanTestKind {
  kWelch,   // Student t with Welch-Satterthwaite degrees of freedom
  kNormal,  // z-test: normal reference distribution (large samples)
};

// Difference of means with unequal variances: se = sqrt(sA^2/nA + sB^2/nB),
// statistic (mB - mA) / se against Welch's t or the standard normal. Needs
// n >= 2 in both arms and se > 0.
DifferenceTest MeanDifferenceTest(const MeanSummary& a, const MeanSummary& b, double alpha = 0.05,
                                  MeanTestKind kind = MeanTestKind::kWelch);

// Users per arm for a two-sided two-proportion z-test (pooled under H0) to
// detect an absolute lift `mde` over `baseline_rate` with the given power:
//   n = [z_{1-alpha/2} sqrt(2 pbar (1 - pbar)) + z_{power} sqrt(p1 q1 + p2 q2)]^2 / mde^2,
// p2 = p1 + mde, pbar = (p1 + p2) / 2, rounded up. mde may be negative.
int64_t SampleSizeProportions(double baseline_rate, double mde, double alpha, double power);

// Observations per arm for a two-sided z-test of a difference of means with
// common standard deviation `sd`: n = 2 sd^2 (z_{1-alpha/2} + z_{power})^2 / mde^2,
// rounded up.
int64_t SampleSizeMeans(double sd, double mde, double alpha, double power);

// ---------------------------------------------------------------------------
// 2. Group-sequential designs (two-sided, symmetric boundaries).
//
// The looks happen at information fractions t_1 < ... < t_K (t_K = 1 for the
// planned maximum). Z_k is the usual fixed-horizon z statistic computed on all
// data up to look k; under the canonical joint distribution Z_k sqrt(t_k) is a
// Brownian motion with drift `drift` at time t_k, so E[Z_k] = drift sqrt(t_k).
// A design rejects H0 at the first look with |Z_k| >= boundaries[k].

struct SequentialDesign {
  std::vector<double> fractions;   // t_1 < ... < t_K
  std::vector<double> boundaries;  // critical |Z_k|; +infinity means "no stop"
  double alpha = 0.05;             // two-sided level the design was built for
};

// t_k = k / K for k = 1..K.
std::vector<double> EqualFractions(int looks);

enum class BoundaryShape {
  kPocock,         // b_k = c
  kOBrienFleming,  // b_k = c sqrt(t_K / t_k)  (= c sqrt(K/k) for equal spacing)
};

// Classical constant-shape boundaries (Pocock 1977; O'Brien & Fleming 1979):
// finds c so that P(reject at some look | H0) = alpha exactly (by recursive
// numerical integration), for the given fractions.
SequentialDesign ClassicalDesign(BoundaryShape shape, const std::vector<double>& fractions, double alpha);

// Two-sided spending functions: the cumulative type I error alpha(t) spent
// by information fraction t, half on each side.
enum class SpendingFunction {
  // O'Brien-Fleming type, applied to alpha/2 on each side (DeMets & Lan 1994;
  // the convention of gsDesign, ldbounds and SAS PROC SEQDESIGN, whose
  // published boundaries it reproduces): per side
  //   alpha_side(t) = 2 - 2 Phi(z_{1-alpha/4} / sqrt(t)),  alpha(t) = 2 alpha_side(t).
  kOBrienFleming,
  // O'Brien-Fleming type applied once to the two-sided total (Lan & DeMets
  // 1983 as often written): alpha(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t)).
  // Spends more early: its first boundary is z_{1-alpha/2} / sqrt(t_1).
  kOBrienFlemingTotal,
  // Pocock type: alpha(t) = alpha ln(1 + (e - 1) t) (the same whether applied
  // per side or to the total, being linear in alpha).
  kPocock,
};

// Cumulative two-sided type I error spent by information fraction t; equals
// alpha for t >= 1 and 0 for t <= 0.
double SpentAlpha(SpendingFunction f, double alpha, double t);

// Lan-DeMets alpha-spending boundaries: computed look by look so that the
// cumulative probability under H0 of crossing by look k equals
// SpentAlpha(t_k). Fractions may be unequal and need not be planned; a
// fraction >= 1 spends what is left of alpha. To fix the boundary of a new
// look without recomputing the old ones, see NextSpendingBoundary.
SequentialDesign SpendingDesign(SpendingFunction f, const std::vector<double>& fractions, double alpha);

// The boundary of one more look at fraction `t_next` (> the last fraction),
// given the boundaries already used, such that the cumulative crossing
// probability under H0 becomes `cumulative_alpha`. Returns +infinity when
// nothing is left to spend at that look.
double NextSpendingBoundary(const std::vector<double>& fractions, const std::vector<double>& boundaries, double t_next,
                            double cumulative_alpha);

// Repeated significance testing with no correction: b_k = z_{1-alpha/2} at
// every look. Its real type I error is far above alpha (about 0.142 for 5 looks
// and 0.193 for 10 at alpha = 0.05); it exists to show that.
SequentialDesign NaiveDesign(const std::vector<double>& fractions, double alpha);

// Index of the first look whose |z| reaches the fixed-horizon critical value
// z_{1-alpha/2}, or -1 if none does: what "peeking" at a dashboard does.
int FirstNaiveRejection(std::span<const double> z_values, double alpha);

// Probabilities of first crossing the upper (Z_k >= b_k) and the lower
// (Z_k <= -b_k) boundary at each look, for the given drift.
struct CrossingProbabilities {
  std::vector<double> upper;
  std::vector<double> lower;
  double Total() const;  // sum of both over all looks
};

// Computed with the recursive numerical integration of Armitage, McPherson and
// Rowe (1969) on the grid of Jennison & Turnbull (2000, chapter 19): Simpson's
// rule on about 6r points per look (r = 32), accurate to about 1e-8.
CrossingProbabilities Crossing(const std::vector<double>& fractions, const std::vector<double>& boundaries,
                               double drift);

// What a design does for a given drift.
struct OperatingCharacteristics {
  double reject_probability = 0.0;       // P(reject H0), either direction
  std::vector<double> stop_probability;  // P(stop at look k); the last look always stops
  double expected_fraction = 0.0;        // E[information at stop] / maximum information
};

OperatingCharacteristics Evaluate(const SequentialDesign& design, double drift);

// The drift (E[Z] at t = 1) at which the design rejects H0 with probability
// `power`. For a fixed design it is z_{1-alpha/2} + z_{power} (ignoring the
// opposite tail).
double DriftForPower(const SequentialDesign& design, double power);

// Maximum sample size of the sequential design divided by that of the
// fixed-horizon test with the same alpha and power:
//   R = (DriftForPower(design, power) / (z_{1-alpha/2} + z_{power}))^2.
// The expected sample size at drift d is R * n_fixed * Evaluate(design, d).expected_fraction.
double InflationFactor(const SequentialDesign& design, double power);

// ---------------------------------------------------------------------------
// 3. Always-valid inference: the mixture sequential probability ratio test
// (mSPRT) of Johari, Koomen, Pekelis and Walsh (2017), "Peeking at A/B tests".

// The core state. Each Update gives the current estimate d of the difference
// and its variance V (d ~ N(theta, V)). With a N(theta0, tau^2) mixing
// distribution on theta the mixture likelihood ratio is
//   Lambda = sqrt(V / (V + tau^2)) exp(tau^2 (d - theta0)^2 / (2 V (V + tau^2))),
// the always-valid p-value is p_n = min(p_{n-1}, 1 / Lambda_n) (p_0 = 1) and
// the confidence sequence is the running intersection of
//   {theta : Lambda_n(theta) < 1 / alpha}.
// P(p_n <= alpha for some n | H0) <= alpha however often one looks, provided
// V is the true variance and the data are Gaussian (or nearly, by the CLT).
class MixtureSprt {
 public:
  // tau > 0: standard deviation of the mixing distribution, in the units of
  // the difference (about the size of effect one hopes to detect).
  MixtureSprt(double tau, double alpha, double null_difference = 0.0);

  // One look at the cumulative data: estimate d and its variance V > 0.
  void Update(double estimate, double variance);

  double likelihood_ratio() const { return likelihood_ratio_; }  // at the last update
  double p_value() const { return p_value_; }
  bool rejected() const { return p_value_ <= alpha_; }  // decision at the configured alpha
  bool Rejects(double alpha) const { return p_value_ <= alpha; }
  double ci_low() const { return ci_low_; }  // always-valid 1 - alpha interval
  double ci_high() const { return ci_high_; }
  int64_t updates() const { return updates_; }
  double alpha() const { return alpha_; }

 private:
  double tau2_;
  double alpha_;
  double null_difference_;
  double likelihood_ratio_ = 1.0;
  double p_value_ = 1.0;
  double ci_low_;
  double ci_high_;
  int64_t updates_ = 0;
};

enum class Arm { kA, kB };

struct MsprtOptions {
  double tau = 0.0;              // mixing standard deviation (> 0), required
  double alpha = 0.05;           // for the decision and the confidence sequence
  double null_difference = 0.0;  // theta0
  double sigma = 0.0;            // known per-observation sd; 0 = plug-in sample sd
  int64_t burn_in = 2;           // observations per arm before the first look (>= 2 with plug-in)
};

// mSPRT for a difference of means from streaming observations. After each
// Observe (or ObservePair) the test looks once, with d = mean_B - mean_A and
// V = sA^2/nA + sB^2/nB (sigma^2 for both when sigma is known). With known
// sigma and paired observations (ObservePair) the guarantee is exact.
class MeanMsprt {
 public:
  explicit MeanMsprt(const MsprtOptions& options);
  void Observe(Arm arm, double value);
  void ObservePair(double a, double b);
  const MixtureSprt& test() const { return test_; }

 private:
  struct Running {  // Welford
    int64_t n = 0;
    double mean = 0.0;
    double m2 = 0.0;
  };
  void Add(Arm arm, double value);
  void Look();
  MsprtOptions options_;
  Running a_, b_;
  MixtureSprt test_;
};

// mSPRT for a difference of conversion rates, normal approximation with the
// plug-in variance V = pA (1 - pA)/nA + pB (1 - pB)/nB. Looks are skipped
// while V = 0 or before burn_in users per arm (early plug-in variances are
// too noisy to trust; 100 or more is advisable).
class ProportionMsprt {
 public:
  explicit ProportionMsprt(const MsprtOptions& options);
  void Observe(Arm arm, bool converted);
  void ObservePair(bool a, bool b);
  const MixtureSprt& test() const { return test_; }
  const ConversionCounts& counts(Arm arm) const { return arm == Arm::kA ? a_ : b_; }

 private:
  void Look();
  MsprtOptions options_;
  ConversionCounts a_, b_;
  MixtureSprt test_;
};

// ---------------------------------------------------------------------------
// 4. Bayesian A/B test of conversion rates.

// Beta(a, b) distribution of a conversion rate.
struct BetaDistribution {
  double a = 1.0;
  double b = 1.0;
};

// Posterior Beta(prior.a + conversions, prior.b + users - conversions).
BetaDistribution Posterior(const ConversionCounts& counts, const BetaDistribution& prior = {});

// P(p_B > p_A) for independent p_A ~ a, p_B ~ b. Exact closed form when one
// first shape parameter is an integer of at most 100000 (Evan Miller's sum
//   sum_{i=0}^{aB-1} B(aA + i, bA + bB) / ((bB + i) B(1 + i, bB) B(aA, bA)),
// in log space), otherwise adaptive Gauss-Kronrod quadrature of
// f_A(x) (1 - I_x(aB, bB)). Either way accurate to better than 1e-9.
double ProbabilityBBeatsA(const BetaDistribution& a, const BetaDistribution& b);

// Expected loss (in conversion rate) of shipping each arm:
//   choose_a = E[max(p_B - p_A, 0)],  choose_b = E[max(p_A - p_B, 0)].
// A common stopping rule ships the arm whose loss is below a threshold.
struct ExpectedLoss {
  double choose_a = 0.0;
  double choose_b = 0.0;
};
ExpectedLoss ExpectedLosses(const BetaDistribution& a, const BetaDistribution& b);

// ---------------------------------------------------------------------------
// 5. CUPED (Deng, Xu, Kohavi & Walker 2013): variance reduction with a
// pre-experiment covariate X.

struct CupedFit {
  double theta = 0.0;               // cov(Y, X) / var(X)
  double x_mean = 0.0;              // mean of X over the fitted data
  double correlation = 0.0;         // rho(Y, X)
  double variance_reduction = 1.0;  // var(adjusted) / var(Y) = 1 - rho^2
};

// Fits theta on y and x (same length >= 2, var(x) > 0). Fit on both arms
// pooled, never per arm, so that the adjustment is the same for both.
CupedFit FitCuped(std::span<const double> y, std::span<const double> x);

// y_i - theta (x_i - x_mean) for each i.
std::vector<double> CupedAdjust(std::span<const double> y, std::span<const double> x, const CupedFit& fit);

// ---------------------------------------------------------------------------
// 6. 2^k factorial (multivariate) test, fitted by OLS with +-1 coding.

// One observation: bit j of `cell` is set when factor j is at its high level.
struct FactorialObservation {
  uint32_t cell = 0;
  double y = 0.0;
};

// One main effect or interaction. `effect` is 2 beta for the +-1 coded
// coefficient beta: for a main effect, mean(high) - mean(low) in a balanced
// design.
struct FactorialEffect {
  std::string name;      // "A", "B", "A:B", ...
  uint32_t factors = 0;  // bit mask of the factors involved
  double effect = 0.0;
  double std_error = 0.0;
  double t = 0.0;
  double p_value = 1.0;  // two-sided, Student t with `df` degrees of freedom
  double ci_low = 0.0;   // two-sided 1 - alpha
  double ci_high = 0.0;
};

struct FactorialFit {
  double intercept = 0.0;                // the mean over cells in a balanced design
  std::vector<FactorialEffect> effects;  // by order, then factor order: A, B, A:B, ...
  double residual_sd = 0.0;
  int64_t df = 0;  // n - number of coefficients
};

// Fits all main effects and interactions of order <= max_order (0 = all, up
// to k) for k = `factors` in 1..16. Every coefficient must be estimable (for
// the full model: every one of the 2^k cells observed) and n must exceed the
// number of coefficients. Factors are named A, B, C, ...
FactorialFit FitFactorial(int factors, std::span<const FactorialObservation> data, int max_order = 0,
                          double alpha = 0.05);

}  // namespace adsim::stats
