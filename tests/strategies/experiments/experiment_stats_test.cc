// adsim::stats against published values, hand-computed formulas and
// fixed-seed simulations whose tolerances come from the binomial or sampling
// standard error.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <boost/random/bernoulli_distribution.hpp>
#include <boost/random/beta_distribution.hpp>
#include <boost/random/binomial_distribution.hpp>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "core/error.h"
#include "strategies/experiments/lib/stats.h"

namespace adsim::stats {
namespace {

// Binomial standard error of a rate estimated from n replications.
double BinomialSe(double p, int n) { return std::sqrt(p * (1.0 - p) / n); }

// ---------------------------------------------------------------------------
// Group-sequential boundaries. Published values: Jennison & Turnbull (2000),
// Tables 2.1 and 2.3 (classical Pocock and O'Brien-Fleming constants), and the
// Lan-DeMets O'Brien-Fleming-type spending boundaries for 5 equally spaced
// looks (DeMets & Lan 1994; reproduced by R's gsDesign and ldbounds). All for
// two-sided alpha = 0.05, printed to 3 decimals, so |ours - published| must be
// below 0.0005 (rounding).
constexpr double kRounding = 0.0005;

void ExpectBoundaries(const SequentialDesign& d, const std::vector<double>& published) {
  ASSERT_EQ(d.boundaries.size(), published.size());
  for (size_t k = 0; k < published.size(); ++k)
    EXPECT_NEAR(d.boundaries[k], published[k], kRounding) << "look " << k + 1;
}

TEST(ExperimentStatsBoundaries, ClassicalOBrienFlemingFiveLooks) {
  // C_B(5, 0.05) = 2.040 and b_k = C_B sqrt(5/k).
  const auto d = ClassicalDesign(BoundaryShape::kOBrienFleming, EqualFractions(5), 0.05);
  ExpectBoundaries(d, {4.562, 3.226, 2.634, 2.281, 2.040});
  // The constant shape holds exactly: b_k sqrt(k/5) is the same at every look.
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(d.boundaries[k] * std::sqrt((k + 1) / 5.0), d.boundaries[4], 1e-12);
  // The defining property: total crossing probability under H0 is alpha.
  EXPECT_NEAR(Crossing(d.fractions, d.boundaries, 0.0).Total(), 0.05, 1e-9);
}

TEST(ExperimentStatsBoundaries, ClassicalPocockFiveLooks) {
  // C_P(5, 0.05) = 2.413 at every look.
  const auto d = ClassicalDesign(BoundaryShape::kPocock, EqualFractions(5), 0.05);
  ExpectBoundaries(d, {2.413, 2.413, 2.413, 2.413, 2.413});
  EXPECT_NEAR(Crossing(d.fractions, d.boundaries, 0.0).Total(), 0.05, 1e-9);
}

TEST(ExperimentStatsBoundaries, ClassicalTwoLooks) {
  // C_P(2, 0.05) = 2.178; C_B(2, 0.05) = 1.977, so b_1 = 1.977 sqrt(2) = 2.797.
  ExpectBoundaries(ClassicalDesign(BoundaryShape::kPocock, EqualFractions(2), 0.05), {2.178, 2.178});
  ExpectBoundaries(ClassicalDesign(BoundaryShape::kOBrienFleming, EqualFractions(2), 0.05), {2.797, 1.977});
}

TEST(ExperimentStatsBoundaries, OneLookIsTheFixedDesign) {
  // K = 1: z_{0.975} = 1.959964 whatever the shape or spending function.
  for (auto s : {BoundaryShape::kPocock, BoundaryShape::kOBrienFleming})
    EXPECT_NEAR(ClassicalDesign(s, {1.0}, 0.05).boundaries[0], 1.959964, 1e-6);
  for (auto f : {SpendingFunction::kPocock, SpendingFunction::kOBrienFleming})
    EXPECT_NEAR(SpendingDesign(f, {1.0}, 0.05).boundaries[0], 1.959964, 1e-6);
}

TEST(ExperimentStatsBoundaries, LanDeMetsOBrienFlemingSpendingFiveLooks) {
  const auto d = SpendingDesign(SpendingFunction::kOBrienFleming, EqualFractions(5), 0.05);
  ExpectBoundaries(d, {4.877, 3.357, 2.680, 2.290, 2.031});
  // Each side spends alpha_side(t) = 2 - 2 Phi(z_{1-alpha/4} / sqrt(t)), z_{0.9875} = 2.241403;
  // at t = 0.2 that is 2 (1 - Phi(2.241403 / sqrt(0.2))) = 2 (1 - Phi(5.0119)), and
  // the upper boundary crossed with that probability is b_1 = Phi^{-1}(1 - alpha_side(0.2)) = 4.877.
  EXPECT_NEAR(d.boundaries[0], NormalQuantile(1.0 - 2.0 * (1.0 - NormalCdf(2.241402728 / std::sqrt(0.2)))), 1e-6);
}

TEST(ExperimentStatsBoundaries, LanDeMetsOBrienFlemingTotalSpending) {
  // alpha(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t)) on the two-sided total: the first
  // look spends alpha(0.2) = 2 (1 - Phi(1.959964 / sqrt(0.2))), so
  // b_1 = Phi^{-1}(1 - alpha(0.2) / 2) = 1.959964 / sqrt(0.2) = 4.382613 exactly.
  const auto d = SpendingDesign(SpendingFunction::kOBrienFlemingTotal, EqualFractions(5), 0.05);
  EXPECT_NEAR(d.boundaries[0], 1.959963985 / std::sqrt(0.2), 1e-7);
  EXPECT_NEAR(Crossing(d.fractions, d.boundaries, 0.0).Total(), 0.05, 1e-9);
  // It spends more early than the per-side convention, hence lower early boundaries.
  const auto per_side = SpendingDesign(SpendingFunction::kOBrienFleming, EqualFractions(5), 0.05);
  for (int k = 0; k < 4; ++k) EXPECT_LT(d.boundaries[k], per_side.boundaries[k]);
}

TEST(ExperimentStatsBoundaries, SpendingMatchesTheSpendingFunctionAtUnplannedLooks) {
  // Unequal, unplanned fractions: the cumulative H0 crossing probability at
  // each look must equal alpha(t_k) (up to the integration error, << 1e-7).
  const std::vector<double> t = {0.13, 0.41, 0.5, 0.87, 1.0};
  for (auto f : {SpendingFunction::kOBrienFleming, SpendingFunction::kOBrienFlemingTotal, SpendingFunction::kPocock}) {
    const auto d = SpendingDesign(f, t, 0.05);
    const auto c = Crossing(d.fractions, d.boundaries, 0.0);
    double cumulative = 0.0;
    for (size_t k = 0; k < t.size(); ++k) {
      cumulative += c.upper[k] + c.lower[k];
      // Symmetric boundaries under H0: each side gets half.
      EXPECT_NEAR(c.upper[k], c.lower[k], 1e-12);
      EXPECT_NEAR(cumulative, SpentAlpha(f, 0.05, t[k]), 1e-8) << "look " << k + 1;
    }
    // Fixing looks one at a time gives the same boundaries as all at once.
    std::vector<double> done_t, done_b;
    for (size_t k = 0; k < t.size(); ++k) {
      const double b = NextSpendingBoundary(done_t, done_b, t[k], SpentAlpha(f, 0.05, t[k]));
      EXPECT_NEAR(b, d.boundaries[k], 1e-9);
      done_t.push_back(t[k]);
      done_b.push_back(b);
    }
  }
}

TEST(ExperimentStatsBoundaries, PocockSpendingSpendsAlpha) {
  // alpha ln(1 + (e - 1) t) reaches alpha at t = 1 and is concave.
  EXPECT_NEAR(SpentAlpha(SpendingFunction::kPocock, 0.05, 1.0), 0.05, 1e-15);
  EXPECT_NEAR(SpentAlpha(SpendingFunction::kPocock, 0.05, 0.5), 0.05 * std::log(1.0 + (std::exp(1.0) - 1.0) / 2),
              1e-15);
  const auto d = SpendingDesign(SpendingFunction::kPocock, EqualFractions(5), 0.05);
  EXPECT_NEAR(Crossing(d.fractions, d.boundaries, 0.0).Total(), 0.05, 1e-9);
  // Published Lan-DeMets Pocock-type boundaries, 5 equally spaced looks
  // (DeMets & Lan 1994; R's ldbounds): nearly flat, slightly decreasing.
  ExpectBoundaries(d, {2.438, 2.427, 2.410, 2.397, 2.386});
}

// Monte Carlo check of the numerical integration: 200k Brownian paths observed
// at the looks, Z_k = W(t_k) / sqrt(t_k); the rejection rate must be within 4
// binomial standard errors of alpha.
double SimulatedCrossing(const SequentialDesign& d, double drift, int paths, uint64_t seed) {
  boost::random::mt19937_64 rng(seed);
  boost::random::normal_distribution<double> normal;
  int rejected = 0;
  for (int i = 0; i < paths; ++i) {
    double w = 0.0, t_prev = 0.0;
    for (size_t k = 0; k < d.fractions.size(); ++k) {
      const double dt = d.fractions[k] - t_prev;
      w += drift * dt + std::sqrt(dt) * normal(rng);
      t_prev = d.fractions[k];
      if (std::abs(w / std::sqrt(d.fractions[k])) >= d.boundaries[k]) {
        ++rejected;
        break;
      }
    }
  }
  return static_cast<double>(rejected) / paths;
}

TEST(ExperimentStatsBoundaries, MonteCarloConfirmsTypeIError) {
  constexpr int kPaths = 200000;
  const double se = BinomialSe(0.05, kPaths);
  const std::vector<SequentialDesign> designs = {
      ClassicalDesign(BoundaryShape::kOBrienFleming, EqualFractions(5), 0.05),
      ClassicalDesign(BoundaryShape::kPocock, EqualFractions(5), 0.05),
      SpendingDesign(SpendingFunction::kOBrienFleming, EqualFractions(5), 0.05),
      SpendingDesign(SpendingFunction::kOBrienFleming, {0.13, 0.41, 0.5, 0.87, 1.0}, 0.05)};
  uint64_t seed = 101;
  for (const auto& d : designs) EXPECT_NEAR(SimulatedCrossing(d, 0.0, kPaths, seed++), 0.05, 4 * se);
}

TEST(ExperimentStatsBoundaries, PowerAndExpectedSampleSizeMatchMonteCarlo) {
  // Under a drift the same recursion gives power; check it against 200k
  // simulated paths, and the expected sample fraction against its definition.
  const auto d = ClassicalDesign(BoundaryShape::kPocock, EqualFractions(5), 0.05);
  const double drift = 2.5;
  const auto oc = Evaluate(d, drift);
  constexpr int kPaths = 200000;
  EXPECT_NEAR(SimulatedCrossing(d, drift, kPaths, 7), oc.reject_probability,
              4 * BinomialSe(oc.reject_probability, kPaths));
  double sum = 0.0, expected = 0.0;
  for (int k = 0; k < 5; ++k) {
    sum += oc.stop_probability[k];
    expected += oc.stop_probability[k] * (k + 1) / 5.0;
  }
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_NEAR(oc.expected_fraction, expected, 1e-12);
  // Under H0 a design with early stopping rarely stops early, so E[N] is close to N_max.
  EXPECT_GT(Evaluate(d, 0.0).expected_fraction, 0.95);
  EXPECT_LT(oc.expected_fraction, 0.8);
}

TEST(ExperimentStatsBoundaries, InflationFactorsMatchJennisonTurnbull) {
  // Fixed design: drift for 90% power is z_{0.975} + z_{0.9} = 3.241516 (up to the
  // opposite tail, which adds ~1e-7), so the inflation factor is 1.
  EXPECT_NEAR(InflationFactor(ClassicalDesign(BoundaryShape::kPocock, {1.0}, 0.05), 0.9), 1.0, 1e-5);
  // Jennison & Turnbull Tables 2.2 and 2.4, alpha = 0.05, R = (drift for the
  // power / (z_{0.975} + z_{power}))^2:
  //   Pocock K = 2: 1.110 (power 0.8), 1.100 (power 0.9);
  //   O'Brien-Fleming K = 2: 1.008, 1.007; K = 5: 1.028, 1.026.
  struct Case {
    BoundaryShape shape;
    int looks;
    double power, published;
  };
  const std::vector<Case> cases = {
      {BoundaryShape::kPocock, 2, 0.8, 1.110},        {BoundaryShape::kPocock, 2, 0.9, 1.100},
      {BoundaryShape::kOBrienFleming, 2, 0.8, 1.008}, {BoundaryShape::kOBrienFleming, 2, 0.9, 1.007},
      {BoundaryShape::kOBrienFleming, 5, 0.8, 1.028}, {BoundaryShape::kOBrienFleming, 5, 0.9, 1.026}};
  for (const auto& c : cases)
    EXPECT_NEAR(InflationFactor(ClassicalDesign(c.shape, EqualFractions(c.looks), 0.05), c.power), c.published,
                kRounding)
        << c.looks << " looks, power " << c.power;
}

TEST(ExperimentStatsBoundaries, NaiveRepeatedTestingInflatesTypeIError) {
  // Armitage, McPherson & Rowe (1969) / Jennison & Turnbull Table 1.1: testing
  // at nominal 0.05 at K equally spaced looks rejects a true H0 with
  // probability 0.083 (K = 2), 0.107 (3), 0.142 (5), 0.193 (10), 0.248 (20), 0.320 (50).
  const std::array<std::pair<int, double>, 6> published = {
      {{2, 0.083}, {3, 0.107}, {5, 0.142}, {10, 0.193}, {20, 0.248}, {50, 0.320}}};
  for (auto [k, p] : published) {
    const auto d = NaiveDesign(EqualFractions(k), 0.05);
    EXPECT_NEAR(Crossing(d.fractions, d.boundaries, 0.0).Total(), p, kRounding) << k << " looks";
  }
  const std::vector<double> z = {0.5, 1.2, -1.97, 2.5};
  EXPECT_EQ(FirstNaiveRejection(z, 0.05), 2);
  EXPECT_EQ(FirstNaiveRejection(std::vector<double>{0.5, 1.9}, 0.05), -1);
}

// ---------------------------------------------------------------------------
// Fixed horizon.

TEST(ExperimentStatsFixedHorizon, SampleSizeProportions) {
  // p1 = 0.10, mde = 0.02 -> p2 = 0.12, pbar = 0.11; z_{0.975} = 1.959964, z_{0.8} = 0.841621.
  // n = (1.959964 sqrt(2 * 0.11 * 0.89) + 0.841621 sqrt(0.10 * 0.90 + 0.12 * 0.88))^2 / 0.02^2
  //   = (0.867270 + 0.372222)^2 / 0.0004 = 3840.85 -> 3841 per arm.
  EXPECT_EQ(SampleSizeProportions(0.10, 0.02, 0.05, 0.8), 3841);
  // A drop to p2 = 0.08 has a smaller variance p2 (1 - p2), so needs fewer users.
  EXPECT_LT(SampleSizeProportions(0.10, -0.02, 0.05, 0.8), 3841);
}

TEST(ExperimentStatsFixedHorizon, SampleSizeMeans) {
  // n = 2 sd^2 (z_{0.975} + z_{0.8})^2 / mde^2 = 2 (1.959964 + 0.841621)^2 / 0.2^2 = 392.44 -> 393.
  EXPECT_EQ(SampleSizeMeans(1.0, 0.2, 0.05, 0.8), 393);
}

TEST(ExperimentStatsFixedHorizon, TwoProportionZTest) {
  // A: 100/1000, B: 130/1000. Pooled p = 230/2000 = 0.115,
  // se0 = sqrt(0.115 * 0.885 * (2/1000)) = 0.0142671, z = 0.03 / 0.0142671 = 2.102741;
  // p (two-sided) = 2 (1 - Phi(2.102741)) = 0.035488, p (B > A) = 0.017744.
  // Wald se = sqrt(0.1 * 0.9 / 1000 + 0.13 * 0.87 / 1000) = 0.0142513,
  // 95% CI = 0.03 +- 1.959964 * 0.0142513 = [0.002068, 0.057932].
  const auto r = TwoProportionZTest({100, 1000}, {130, 1000}, 0.05);
  EXPECT_NEAR(r.estimate, 0.03, 1e-15);
  EXPECT_NEAR(r.statistic, 2.102741, 1e-6);
  EXPECT_NEAR(r.p_two_sided, 0.035488, 1e-6);
  EXPECT_NEAR(r.p_greater, 0.017744, 1e-6);
  EXPECT_NEAR(r.p_less, 1.0 - 0.017744, 1e-6);
  EXPECT_NEAR(r.ci_low, 0.002068, 1e-6);
  EXPECT_NEAR(r.ci_high, 0.057932, 1e-6);
  // One-sided bound: 0.03 - 1.644854 * 0.0142513 = 0.006558.
  EXPECT_NEAR(r.lower_bound, 0.006558, 1e-6);
  EXPECT_TRUE(std::isinf(r.df));
}

TEST(ExperimentStatsFixedHorizon, WelchTest) {
  // A: mean 10, sd 2, n 20; B: mean 11.5, sd 3, n 25. vA = 4/20 = 0.2, vB = 9/25 = 0.36,
  // t = 1.5 / sqrt(0.56) = 2.004459, df = 0.56^2 / (0.2^2/19 + 0.36^2/24) = 41.7840.
  const MeanSummary a{10.0, 2.0, 20}, b{11.5, 3.0, 25};
  const auto w = MeanDifferenceTest(a, b, 0.05, MeanTestKind::kWelch);
  EXPECT_NEAR(w.statistic, 2.004459, 1e-6);
  EXPECT_NEAR(w.df, 41.7840, 1e-4);
  EXPECT_NEAR(w.p_two_sided, 2.0 * w.p_greater, 1e-15);
  // The t reference has heavier tails than the normal one: larger p, wider CI.
  const auto z = MeanDifferenceTest(a, b, 0.05, MeanTestKind::kNormal);
  EXPECT_NEAR(z.p_two_sided, 2.0 * (1.0 - NormalCdf(2.004459)), 1e-6);
  EXPECT_GT(w.p_two_sided, z.p_two_sided);
  EXPECT_LT(w.ci_low, z.ci_low);
  const std::vector<double> v = {1.0, 2.0, 3.0, 4.0};
  const auto s = Summarize(v);  // mean 2.5, sd sqrt(5/3)
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_NEAR(s.sd, std::sqrt(5.0 / 3.0), 1e-15);
}

// ---------------------------------------------------------------------------
// A/A simulations: the false positive rate of each monitoring scheme.

// Fraction of A/A experiments (conversion rate 0.1 in both arms, `per_look`
// users per arm between looks) that the design rejects at some look, with
// the pooled two-proportion z statistic at each look.
double AaRejectionRate(const SequentialDesign& d, int per_look, int experiments, uint64_t seed) {
  boost::random::mt19937_64 rng(seed);
  boost::random::binomial_distribution<int> batch(per_look, 0.1);
  int rejected = 0;
  for (int e = 0; e < experiments; ++e) {
    ConversionCounts a{0, 0}, b{0, 0};
    for (size_t k = 0; k < d.fractions.size(); ++k) {
      a.conversions += batch(rng);
      b.conversions += batch(rng);
      a.users += per_look;
      b.users += per_look;
      if (std::abs(TwoProportionZTest(a, b).statistic) >= d.boundaries[k]) {
        ++rejected;
        break;
      }
    }
  }
  return static_cast<double>(rejected) / experiments;
}

constexpr int kAaExperiments = 4000;

TEST(ExperimentStatsAa, GroupSequentialDesignsHoldAlpha) {
  // Rate <= alpha + 3 binomial SE (about 0.0603 for 4000 experiments).
  const double limit = 0.05 + 3 * BinomialSe(0.05, kAaExperiments);
  const std::vector<SequentialDesign> designs = {
      ClassicalDesign(BoundaryShape::kOBrienFleming, EqualFractions(5), 0.05),
      ClassicalDesign(BoundaryShape::kPocock, EqualFractions(5), 0.05),
      SpendingDesign(SpendingFunction::kOBrienFleming, EqualFractions(5), 0.05)};
  uint64_t seed = 11;
  for (const auto& d : designs) EXPECT_LE(AaRejectionRate(d, 400, kAaExperiments, seed++), limit);
}

TEST(ExperimentStatsAa, NaivePeekingAtTenLooksInflatesFalsePositives) {
  // Exact rate for 10 looks is 0.193 (see above); 0.1 is 14 SE below it.
  const double rate = AaRejectionRate(NaiveDesign(EqualFractions(10), 0.05), 200, kAaExperiments, 21);
  EXPECT_GT(rate, 0.1);
}

TEST(ExperimentStatsAa, MsprtKnownVarianceUnderContinuousMonitoring) {
  // N(0, 1) in both arms, 2000 experiments of 500 pairs, a look after every
  // pair. Ville's inequality bounds the rate by alpha.
  constexpr int kExperiments = 2000;
  boost::random::mt19937_64 rng(31);
  boost::random::normal_distribution<double> normal;
  int rejected = 0;
  for (int e = 0; e < kExperiments; ++e) {
    MeanMsprt m({.tau = 0.1, .alpha = 0.05, .sigma = 1.0, .burn_in = 1});
    for (int i = 0; i < 500 && !m.test().rejected(); ++i) m.ObservePair(normal(rng), normal(rng));
    rejected += m.test().rejected();
  }
  EXPECT_LE(static_cast<double>(rejected) / kExperiments, 0.05 + 3 * BinomialSe(0.05, kExperiments));
}

TEST(ExperimentStatsAa, MsprtProportionsPlugInVarianceUnderContinuousMonitoring) {
  // Conversion rate 0.1 in both arms, 2000 experiments of 1000 pairs, a look
  // after every pair from 100 users per arm on.
  constexpr int kExperiments = 2000;
  boost::random::mt19937_64 rng(41);
  boost::random::bernoulli_distribution<double> convert(0.1);
  int rejected = 0;
  for (int e = 0; e < kExperiments; ++e) {
    ProportionMsprt m({.tau = 0.02, .alpha = 0.05, .burn_in = 100});
    for (int i = 0; i < 1000 && !m.test().rejected(); ++i) m.ObservePair(convert(rng), convert(rng));
    rejected += m.test().rejected();
  }
  EXPECT_LE(static_cast<double>(rejected) / kExperiments, 0.05 + 3 * BinomialSe(0.05, kExperiments));
}

TEST(ExperimentStatsAa, MsprtConfidenceSequenceCoversAndDetects) {
  // True difference 0.3 (sd 1): the running-intersection interval must hold
  // 0.3 at every look in at least 1 - alpha of runs, and the test must
  // reject H0: 0 in nearly all: at n = 500, V = 0.004, ln Lambda ~ 8 >> ln 20.
  constexpr int kExperiments = 1000;
  boost::random::mt19937_64 rng(51);
  boost::random::normal_distribution<double> normal;
  int missed = 0, rejected = 0;
  for (int e = 0; e < kExperiments; ++e) {
    MeanMsprt m({.tau = 0.1, .alpha = 0.05, .sigma = 1.0, .burn_in = 1});
    for (int i = 0; i < 500; ++i) m.ObservePair(normal(rng), 0.3 + normal(rng));
    missed += !(m.test().ci_low() < 0.3 && 0.3 < m.test().ci_high());
    rejected += m.test().rejected();
  }
  EXPECT_LE(static_cast<double>(missed) / kExperiments, 0.05 + 3 * BinomialSe(0.05, kExperiments));
  EXPECT_GT(static_cast<double>(rejected) / kExperiments, 0.95);
}

TEST(ExperimentStatsAa, MsprtFormula) {
  // d = 0.5, V = 0.04, tau = 0.2: Lambda = sqrt(0.04 / 0.08) exp(0.04 * 0.25 / (2 * 0.04 * 0.08))
  //   = 0.707107 * exp(1.5625) = 3.373165; p = 1 / Lambda = 0.296457.
  MixtureSprt s(0.2, 0.05);
  s.Update(0.5, 0.04);
  EXPECT_NEAR(s.likelihood_ratio(), std::sqrt(0.5) * std::exp(1.5625), 1e-12);
  EXPECT_NEAR(s.p_value(), 1.0 / (std::sqrt(0.5) * std::exp(1.5625)), 1e-12);
  // CI radius: sqrt(2 V (V + tau^2) / tau^2 (ln 20 + 0.5 ln 2)) = sqrt(0.16 * 3.342306) = 0.731279.
  EXPECT_NEAR(s.ci_high() - 0.5, std::sqrt(0.16 * (std::log(20.0) + 0.5 * std::log(2.0))), 1e-12);
  // The p-value never increases, even when the evidence weakens.
  s.Update(0.0, 0.02);
  EXPECT_NEAR(s.p_value(), 1.0 / (std::sqrt(0.5) * std::exp(1.5625)), 1e-12);
}

// ---------------------------------------------------------------------------
// Bayesian A/B.

TEST(ExperimentStatsBayes, ExactSmallCases) {
  // A ~ U(0,1), B ~ Beta(2,1) (density 2x): P(B > A) = int 2x * x dx = 2/3.
  EXPECT_NEAR(ProbabilityBBeatsA({1, 1}, {2, 1}), 2.0 / 3.0, 1e-12);
  // A ~ Beta(1,2) (CDF 1 - (1-x)^2), B ~ Beta(2,1): int 2x (1 - (1-x)^2) dx = 4/3 - 1/2 = 5/6.
  EXPECT_NEAR(ProbabilityBBeatsA({1, 2}, {2, 1}), 5.0 / 6.0, 1e-12);
  // Identical posteriors: 1/2, also by quadrature (non-integer shapes).
  EXPECT_NEAR(ProbabilityBBeatsA({2.5, 7.5}, {2.5, 7.5}), 0.5, 1e-9);
  EXPECT_NEAR(ProbabilityBBeatsA({30, 970}, {30, 970}), 0.5, 1e-9);
}

TEST(ExperimentStatsBayes, QuadratureAgreesWithClosedForm) {
  // With B's first shape an integer the closed form is used; moving it by
  // 1e-9 forces the quadrature (A's is not an integer either). The true values
  // differ by O(1e-9), so any gap beyond that is numerical error.
  const BetaDistribution a{120.5, 880.5};
  EXPECT_NEAR(ProbabilityBBeatsA(a, {140, 861}), ProbabilityBBeatsA(a, {140 + 1e-9, 861}), 1e-8);
  // Also when B is far narrower than A.
  EXPECT_NEAR(ProbabilityBBeatsA({3.5, 20.5}, {1400, 8601}), ProbabilityBBeatsA({3.5, 20.5}, {1400 + 1e-9, 8601}),
              1e-8);
  // And the two closed forms (through B's or A's integer shape) agree.
  EXPECT_NEAR(ProbabilityBBeatsA({121, 880.5}, {140.5, 861}), 1.0 - ProbabilityBBeatsA({140.5, 861}, {121, 880.5}),
              1e-12);
}

TEST(ExperimentStatsBayes, MonteCarlo) {
  // A: 120/1000, B: 140/1000, uniform priors. 200k joint draws; the
  // probability within 4 binomial SE, the expected losses within 4 SE of their
  // sample means.
  const auto a = Posterior({120, 1000}), b = Posterior({140, 1000});
  EXPECT_DOUBLE_EQ(a.a, 121.0);
  EXPECT_DOUBLE_EQ(a.b, 881.0);
  constexpr int kDraws = 200000;
  boost::random::mt19937_64 rng(61);
  boost::random::beta_distribution<double> da(a.a, a.b), db(b.a, b.b);
  int wins = 0;
  double la = 0, la2 = 0, lb = 0, lb2 = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double pa = da(rng), pb = db(rng);
    wins += pb > pa;
    const double loss_a = std::max(pb - pa, 0.0), loss_b = std::max(pa - pb, 0.0);
    la += loss_a;
    la2 += loss_a * loss_a;
    lb += loss_b;
    lb2 += loss_b * loss_b;
  }
  const double p = ProbabilityBBeatsA(a, b);
  EXPECT_NEAR(p, static_cast<double>(wins) / kDraws, 4 * BinomialSe(p, kDraws));
  const auto loss = ExpectedLosses(a, b);
  auto se = [&](double s, double s2) { return std::sqrt((s2 / kDraws - (s / kDraws) * (s / kDraws)) / kDraws); };
  EXPECT_NEAR(loss.choose_a, la / kDraws, 4 * se(la, la2));
  EXPECT_NEAR(loss.choose_b, lb / kDraws, 4 * se(lb, lb2));
  // choose_a - choose_b = E[pB - pA] = 141/1002 - 121/1002 exactly.
  EXPECT_NEAR(loss.choose_a - loss.choose_b, 20.0 / 1002.0, 1e-10);
}

TEST(ExperimentStatsBayes, LargeCountsDoNotUnderflow) {
  // 100k users per arm: term_0 of the sum underflows in linear space. With
  // rates 0.100 vs 0.102 the normal approximation gives
  // Phi(0.002 / sqrt(0.1*0.9/1e5 + 0.102*0.898/1e5)) = Phi(1.4835) = 0.9310;
  // the exact answer differs from it by far less than 0.001.
  const double p = ProbabilityBBeatsA(Posterior({10000, 100000}), Posterior({10200, 100000}));
  EXPECT_NEAR(p, NormalCdf(0.002 / std::sqrt((0.1 * 0.9 + 0.102 * 0.898) / 1e5)), 1e-3);
}

// ---------------------------------------------------------------------------
// CUPED.

TEST(ExperimentStatsCuped, ReducesVarianceByRhoSquaredAndStaysUnbiased) {
  // Y = 1 + 0.1 T + rho X + sqrt(1 - rho^2) e with X, e ~ N(0,1) and rho = 0.7:
  // var(Y | T) = 1, corr(Y, X) = rho. The raw difference of means has variance
  // 2/n; the CUPED one (1 - rho^2) 2/n = 0.51 * 2/n. Over R = 2000 replications
  // a sample variance has relative SE sqrt(2/(R-1)) = 3.2%; allow 4 of them.
  constexpr int kReps = 2000, kN = 500;
  constexpr double kRho = 0.7, kEffect = 0.1;
  boost::random::mt19937_64 rng(71);
  boost::random::normal_distribution<double> normal;
  std::vector<double> y(2 * kN), x(2 * kN), raw(kReps), adjusted(kReps);
  double reduction_sum = 0.0;
  for (int r = 0; r < kReps; ++r) {
    for (int i = 0; i < 2 * kN; ++i) {
      x[i] = normal(rng);
      y[i] = 1.0 + (i >= kN ? kEffect : 0.0) + kRho * x[i] + std::sqrt(1 - kRho * kRho) * normal(rng);
    }
    const auto fit = FitCuped(y, x);  // pooled over both arms
    reduction_sum += fit.variance_reduction;
    const auto adj = CupedAdjust(y, x, fit);
    double ma = 0, mb = 0, ra = 0, rb = 0;
    for (int i = 0; i < kN; ++i) {
      ma += adj[i];
      mb += adj[kN + i];
      ra += y[i];
      rb += y[kN + i];
    }
    adjusted[r] = (mb - ma) / kN;
    raw[r] = (rb - ra) / kN;
  }
  const auto s_raw = Summarize(raw), s_adj = Summarize(adjusted);
  const double rel_se = std::sqrt(2.0 / (kReps - 1));
  const double var_raw = 2.0 / kN, var_adj = (1 - kRho * kRho) * 2.0 / kN;
  EXPECT_NEAR(s_raw.sd * s_raw.sd, var_raw, 4 * rel_se * var_raw);
  EXPECT_NEAR(s_adj.sd * s_adj.sd, var_adj, 4 * rel_se * var_adj);
  // Unbiased: the mean estimate within 4 SE of the true effect.
  EXPECT_NEAR(s_adj.mean, kEffect, 4 * std::sqrt(var_adj / kReps));
  // The fitted reduction factor estimates 1 - rho^2 (a treatment effect of
  // 0.1 in pooled Y lowers rho^2 by only ~0.001).
  EXPECT_NEAR(reduction_sum / kReps, 1 - kRho * kRho, 0.005);
}

// ---------------------------------------------------------------------------
// Factorial test.

TEST(ExperimentStatsFactorial, RecoversKnownEffectsWithNominalCoverage) {
  // 2^3 design, 20 observations per cell, noise sd 1. Effects (high minus
  // low): A 0.5, B -0.3, C 0, A:B 0.2, A:C 0, B:C 0, A:B:C 0.1; cell mean =
  // 2 + sum_terms effect/2 * (product of +-1 codes). Over 1000 replications:
  //  - each 95% CI covers its effect in 0.95 +- 4 binomial SE (0.0276) of them;
  //  - each mean estimate is within 4 SE (2 sigma / sqrt(N) / sqrt(1000)) of the truth;
  //  - the mean reported SE is 2 sigma / sqrt(N) = 0.158114 times E[s]/sigma
  //    (= 0.9984 for 152 df), within 4 SE of its replication mean.
  constexpr int kReps = 1000, kPerCell = 20;
  const std::vector<std::string> names = {"A", "B", "C", "A:B", "A:C", "B:C", "A:B:C"};
  const std::vector<uint32_t> masks = {1, 2, 4, 3, 5, 6, 7};
  const std::vector<double> truth = {0.5, -0.3, 0.0, 0.2, 0.0, 0.0, 0.1};
  boost::random::mt19937_64 rng(81);
  boost::random::normal_distribution<double> normal;
  std::vector<int> covered(7, 0);
  std::vector<double> estimate_sum(7, 0.0);
  std::vector<double> se_of_a(kReps);
  std::vector<FactorialObservation> data;
  for (int r = 0; r < kReps; ++r) {
    data.clear();
    for (uint32_t cell = 0; cell < 8; ++cell) {
      double mean = 2.0;
      for (size_t j = 0; j < 7; ++j) mean += truth[j] / 2.0 * ((std::popcount(masks[j] & ~cell) % 2) ? -1.0 : 1.0);
      for (int i = 0; i < kPerCell; ++i) data.push_back({cell, mean + normal(rng)});
    }
    const auto fit = FitFactorial(3, data);
    ASSERT_EQ(fit.effects.size(), 7u);
    ASSERT_EQ(fit.df, 8 * kPerCell - 8);
    for (size_t j = 0; j < 7; ++j) {
      const auto& e = fit.effects[j];
      ASSERT_EQ(e.name, names[j]);
      ASSERT_EQ(e.factors, masks[j]);
      covered[j] += e.ci_low <= truth[j] && truth[j] <= e.ci_high;
      estimate_sum[j] += e.effect;
    }
    se_of_a[r] = fit.effects[0].std_error;
  }
  const double se_true = 2.0 / std::sqrt(8.0 * kPerCell);
  for (size_t j = 0; j < 7; ++j) {
    EXPECT_NEAR(static_cast<double>(covered[j]) / kReps, 0.95, 4 * BinomialSe(0.95, kReps)) << names[j];
    EXPECT_NEAR(estimate_sum[j] / kReps, truth[j], 4 * se_true / std::sqrt(kReps)) << names[j];
  }
  const auto se_summary = Summarize(se_of_a);
  EXPECT_NEAR(se_summary.mean, se_true * 0.9984, 4 * se_summary.sd / std::sqrt(kReps));
}

TEST(ExperimentStatsFactorial, SingleFitOnNoiselessDataIsExact) {
  // y = 3 + 0.5 x_A - 0.25 x_B (+-1 codes), plus a tiny alternating wiggle
  // so the residual variance is not 0: effects A = 1.0, B = -0.5, A:B = 0.
  std::vector<FactorialObservation> data;
  for (uint32_t cell = 0; cell < 4; ++cell)
    for (int i = 0; i < 3; ++i) {
      const double xa = (cell & 1u) ? 1 : -1, xb = (cell & 2u) ? 1 : -1;
      data.push_back({cell, 3 + 0.5 * xa - 0.25 * xb + (i == 0 ? 1e-6 : i == 1 ? -1e-6 : 0.0)});
    }
  const auto fit = FitFactorial(2, data);
  EXPECT_NEAR(fit.intercept, 3.0, 1e-9);
  EXPECT_NEAR(fit.effects[0].effect, 1.0, 1e-9);
  EXPECT_NEAR(fit.effects[1].effect, -0.5, 1e-9);
  EXPECT_NEAR(fit.effects[2].effect, 0.0, 1e-9);
  // Main effects only: the A:B term is dropped.
  EXPECT_EQ(FitFactorial(2, data, 1).effects.size(), 2u);
}

// ---------------------------------------------------------------------------
// Invalid arguments.

TEST(ExperimentStatsInvalid, ThrowsConfigError) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (double alpha : {0.0, 1.0, -0.1, 1.5, nan}) {
    EXPECT_THROW(ClassicalDesign(BoundaryShape::kPocock, EqualFractions(3), alpha), ConfigError);
    EXPECT_THROW(SpendingDesign(SpendingFunction::kOBrienFleming, EqualFractions(3), alpha), ConfigError);
    EXPECT_THROW(TwoProportionZTest({1, 10}, {2, 10}, alpha), ConfigError);
    EXPECT_THROW(SampleSizeMeans(1.0, 0.1, alpha, 0.8), ConfigError);
    EXPECT_THROW(MixtureSprt(0.1, alpha), ConfigError);
  }
  EXPECT_THROW(EqualFractions(0), ConfigError);
  EXPECT_THROW(SpendingDesign(SpendingFunction::kPocock, {0.5, 0.4, 1.0}, 0.05), ConfigError);
  EXPECT_THROW(SpendingDesign(SpendingFunction::kPocock, {0.0, 1.0}, 0.05), ConfigError);
  EXPECT_THROW(Crossing({0.5, 1.0}, {2.0}, 0.0), ConfigError);
  EXPECT_THROW(NextSpendingBoundary({0.5}, {2.5}, 0.4, 0.05), ConfigError);
  EXPECT_THROW(DriftForPower(ClassicalDesign(BoundaryShape::kPocock, EqualFractions(2), 0.05), 0.01), ConfigError);
  EXPECT_THROW(TwoProportionZTest({11, 10}, {2, 10}), ConfigError);
  EXPECT_THROW(TwoProportionZTest({0, 10}, {0, 10}), ConfigError);  // z = 0/0
  EXPECT_THROW(TwoProportionZTest({0, 0}, {1, 10}), ConfigError);
  EXPECT_THROW(MeanDifferenceTest({0, 1, 1}, {0, 1, 10}), ConfigError);
  EXPECT_THROW(SampleSizeProportions(0.95, 0.06, 0.05, 0.8), ConfigError);
  EXPECT_THROW(SampleSizeProportions(0.1, 0.0, 0.05, 0.8), ConfigError);
  EXPECT_THROW(SampleSizeMeans(0.0, 0.1, 0.05, 0.8), ConfigError);
  EXPECT_THROW(MixtureSprt(0.0, 0.05), ConfigError);
  EXPECT_THROW(MixtureSprt(0.1, 0.05).Update(0.1, 0.0), ConfigError);
  EXPECT_THROW(MeanMsprt({.tau = 0.1, .burn_in = 1}), ConfigError);  // plug-in variance needs 2
  EXPECT_THROW(ProportionMsprt({.tau = -1.0}), ConfigError);
  EXPECT_THROW(ProbabilityBBeatsA({0.0, 1.0}, {1.0, 1.0}), ConfigError);
  EXPECT_THROW(Posterior({5, 3}), ConfigError);
  const std::vector<double> y = {1, 2, 3}, x2 = {1, 2}, x_const = {4, 4, 4};
  EXPECT_THROW(FitCuped(y, x2), ConfigError);
  EXPECT_THROW(FitCuped(y, x_const), ConfigError);
  std::vector<FactorialObservation> missing_cell;
  missing_cell.reserve(10);
  for (int i = 0; i < 10; ++i) missing_cell.push_back({static_cast<uint32_t>(i % 3), 1.0 * i});
  EXPECT_THROW(FitFactorial(2, missing_cell), ConfigError);
  EXPECT_THROW(FitFactorial(0, missing_cell), ConfigError);
  EXPECT_THROW(FitFactorial(1, std::vector<FactorialObservation>{{4, 1.0}, {0, 1.0}, {1, 2.0}}), ConfigError);
}

}  // namespace
}  // namespace adsim::stats
