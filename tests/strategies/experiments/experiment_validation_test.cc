// The Monte Carlo driver of strategies/experiments/lib/validation.h, and through
// it the operating characteristics of the monitoring rules of stats.h on
// simulated conversion streams: A/A false positive rate, power, expected
// sample size. Fixed seeds; every statistical tolerance is a multiple of the
// binomial or sampling standard error, stated where it is used. The full-size
// tables (20 000 replicates) are in docs/experiments-statistics.md.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "strategies/experiments/lib/stats.h"
#include "strategies/experiments/lib/validation.h"

namespace adsim::stats {
namespace {

// The setting of the docs: base rate 5%, design lift +10% relative, alpha
// 0.05, power 0.8, maximum sample size n_fixed split into 100 batches.
constexpr double kBase = 0.05;
constexpr double kLift = 0.10;
constexpr double kAlpha = 0.05;
constexpr double kPower = 0.8;
constexpr int kBatches = 100;
constexpr double kMde = kBase * kLift;
// Functions rather than globals: no Boost.Math call during static initialisation.
int64_t FixedN() { return SampleSizeProportions(kBase, kMde, kAlpha, kPower); }  // 31234 per arm
int64_t Batch() { return (FixedN() + kBatches - 1) / kBatches; }

// Binomial standard error of a rate p estimated from n replicates.
double BinomialSe(double p, int64_t n) { return std::sqrt(p * (1.0 - p) / static_cast<double>(n)); }

AbStreamSetup AbSetup(double lift, int64_t replicates, uint64_t seed, int64_t batch = 0, int batches = kBatches) {
  return {kBase, kBase * (1.0 + lift), batch > 0 ? batch : Batch(), batches, replicates, seed};
}

TEST(ExperimentValidation, PooledZIsTheStatisticOfTwoProportionZTest) {
  const ConversionCounts a{50, 1000}, b{65, 1000};
  EXPECT_DOUBLE_EQ(PooledZ(a, b), TwoProportionZTest(a, b).statistic);
  // No conversion at all: no evidence, z = 0 (TwoProportionZTest would throw).
  EXPECT_EQ(PooledZ({0, 100}, {0, 100}), 0.0);
}

TEST(ExperimentValidation, SameSeedSameResultOtherSeedDiffers) {
  const std::vector<MonitoringRule> rules = {NaiveRule(10, kAlpha), MsprtRule(10, kMde, kAlpha)};
  const auto a = SimulateMonitoring(AbSetup(0.1, 300, 7, 0, 10), rules);
  const auto b = SimulateMonitoring(AbSetup(0.1, 300, 7, 0, 10), rules);
  const auto c = SimulateMonitoring(AbSetup(0.1, 300, 8, 0, 10), rules);
  ASSERT_EQ(a.size(), 2u);
  for (size_t j = 0; j < a.size(); ++j) {
    EXPECT_EQ(a[j].rejections_by_batch, b[j].rejections_by_batch);
    EXPECT_EQ(a[j].upper_by_batch, b[j].upper_by_batch);
  }
  EXPECT_NE(a[0].rejections_by_batch, c[0].rejections_by_batch);
  // A replicate's data do not depend on which rules run beside it.
  const auto alone = SimulateMonitoring(AbSetup(0.1, 300, 7, 0, 10), {rules[1]});
  EXPECT_EQ(alone[0].rejections_by_batch, a[1].rejections_by_batch);
}

TEST(ExperimentValidation, TruncatingAHorizonFreeRuleEqualsAShorterRun) {
  // The mSPRT looking after every batch decides at batch i from batches 1..i
  // only, and replicate r has the same data in both runs, so the histogram of
  // the 40-batch run cut at 25 is exactly that of a 25-batch run.
  const auto full = SimulateMonitoring(AbSetup(0.1, 500, 9, 0, 40), {MsprtRule(40, kMde, kAlpha)})[0];
  const auto cut = AtHorizon(full, 25);
  const auto shorter = SimulateMonitoring(AbSetup(0.1, 500, 9, 0, 25), {MsprtRule(25, kMde, kAlpha)})[0];
  EXPECT_EQ(cut.rejections_by_batch, shorter.rejections_by_batch);
  EXPECT_EQ(cut.rejections, shorter.rejections);
  EXPECT_DOUBLE_EQ(cut.mean_users_per_arm, shorter.mean_users_per_arm);
  // HorizonForPower is the first horizon whose rejection rate reaches the target.
  const int h = HorizonForPower(full, 0.5 * full.rejection_rate);
  ASSERT_GT(h, 0);
  EXPECT_GE(AtHorizon(full, h).rejection_rate, 0.5 * full.rejection_rate);
  if (h > 1) {
    EXPECT_LT(AtHorizon(full, h - 1).rejection_rate, 0.5 * full.rejection_rate);
  }
}

// ---------------------------------------------------------------------------
// A/A: false positive rate under continuous monitoring.

constexpr int64_t kAaReplicates = 4000;

TEST(ExperimentValidation, SequentialMethodsHoldAlphaUnderAa) {
  // Each valid method must reject in at most alpha + 3 binomial SE of the A/A
  // experiments: 0.05 + 3 sqrt(0.05 * 0.95 / 4000) = 0.0603. (A method whose
  // true rate is exactly alpha fails this by chance with probability 0.13%.)
  // mSPRT looks after every one of the 100 batches; the group-sequential
  // designs at their planned 5 or 20 looks.
  const std::vector<MonitoringRule> rules = {
      FixedHorizonRule(kAlpha),
      DesignRule("OBF 5", ClassicalDesign(BoundaryShape::kOBrienFleming, EqualFractions(5), kAlpha)),
      DesignRule("Pocock 5", ClassicalDesign(BoundaryShape::kPocock, EqualFractions(5), kAlpha)),
      DesignRule("LD-OBF 5", SpendingDesign(SpendingFunction::kOBrienFleming, EqualFractions(5), kAlpha)),
      DesignRule("LD-OBF 20", SpendingDesign(SpendingFunction::kOBrienFleming, EqualFractions(20), kAlpha)),
      MsprtRule(kBatches, kMde, kAlpha),
      NaiveRule(kBatches, kAlpha),
      NaiveRule(20, kAlpha),
  };
  const auto out = SimulateMonitoring(AbSetup(0.0, kAaReplicates, 101), rules);
  const double limit = kAlpha + 3 * BinomialSe(kAlpha, kAaReplicates);
  for (size_t j = 0; j + 2 < rules.size(); ++j)
    EXPECT_LE(out[j].rejection_rate, limit) << out[j].name << ": " << out[j].rejections << " rejections";
  // Naive repeated testing: exact rates 0.248 (20 looks) and 0.374 (100 looks)
  // for Brownian motion; asserting > 0.10 (and > the limit above) leaves
  // more than 20 SE of margin.
  for (size_t j = rules.size() - 2; j < rules.size(); ++j) {
    EXPECT_GT(out[j].rejection_rate, limit) << out[j].name;
    EXPECT_GT(out[j].rejection_rate, 0.10) << out[j].name;
  }
  // Over a finite horizon the mSPRT is far below alpha (0.015 in the
  // 20 000-replicate run of the docs: 10 binomial SE at alpha of this run
  // below alpha), so even
  // its point estimate must be.
  EXPECT_LT(out[5].rejection_rate, kAlpha);
}

TEST(ExperimentValidation, BayesProbabilityRuleIsNotAnErrorControllingTest) {
  // Declaring a winner when P(B > A) >= 0.95 (either arm) at 5 looks. With a
  // flat prior P(B > A) ~ Phi(z), so a single look already rejects at a
  // two-sided 0.10, and 5 looks at about the naive 5-look rate for
  // z = 1.645, 0.25 for Brownian motion. Asserting the rate exceeds
  // alpha + 3 SE (0.05 + 3 sqrt(0.05 * 0.95 / 1000) = 0.0707) shows that the
  // threshold is not a false positive rate.
  constexpr int64_t kReplicates = 1000;
  const auto out = SimulateMonitoring(AbSetup(0.0, kReplicates, 103), {BayesRule(5, 0.95)})[0];
  EXPECT_GT(out.rejection_rate, kAlpha + 3 * BinomialSe(kAlpha, kReplicates));
}

// ---------------------------------------------------------------------------
// Power and expected sample size.

constexpr int64_t kPowerReplicates = 2000;

TEST(ExperimentValidation, PowerIncreasesWithEffectSize) {
  // Same maximum sample size for all rules. Consecutive lifts 0, 5, 10, 15%
  // must raise the power by more than 3 SE of the difference,
  // 3 sqrt(p1 q1 / n + p2 q2 / n) (independent-sample SE; the common seed
  // makes the two estimates positively correlated, which only makes the true
  // SE of the difference smaller).
  const std::vector<MonitoringRule> rules = {
      FixedHorizonRule(kAlpha),
      DesignRule("OBF 5", ClassicalDesign(BoundaryShape::kOBrienFleming, EqualFractions(5), kAlpha)),
      DesignRule("Pocock 5", ClassicalDesign(BoundaryShape::kPocock, EqualFractions(5), kAlpha)),
      DesignRule("LD-OBF 5", SpendingDesign(SpendingFunction::kOBrienFleming, EqualFractions(5), kAlpha)),
      MsprtRule(kBatches, kMde, kAlpha),
  };
  std::vector<std::vector<RuleOutcome>> by_lift;
  for (double lift : {0.0, 0.05, 0.10, 0.15})
    by_lift.push_back(SimulateMonitoring(AbSetup(lift, kPowerReplicates, 107), rules));
  for (size_t j = 0; j < rules.size(); ++j) {
    for (size_t l = 0; l + 1 < by_lift.size(); ++l) {
      const RuleOutcome &lo = by_lift[l][j], &hi = by_lift[l + 1][j];
      const double se = std::hypot(lo.rejection_se, hi.rejection_se);
      EXPECT_GT(hi.rejection_rate - lo.rejection_rate, 3 * se) << lo.name << " between lifts " << l << " and " << l + 1;
    }
  }
  // Fixed horizon at n_fixed and the design lift: power 0.8 within 3 SE,
  // 3 sqrt(0.8 * 0.2 / 2000) = 0.027 (the sample size formula's own normal
  // approximation error is far smaller here).
  EXPECT_NEAR(by_lift[2][0].rejection_rate, kPower, 3 * BinomialSe(kPower, kPowerReplicates));
}

TEST(ExperimentValidation, InflatedGroupSequentialDesignsHaveDesignPowerAndSaveUsers) {
  // A group-sequential design with maximum sample size R n_fixed
  // (R = InflationFactor) has the design power at the design lift, and its
  // expected sample size there is R n_fixed E[fraction at stop] < n_fixed.
  // Checked: |power - 0.8| <= 3 SE (0.027); E[N] + 3 SE(E[N]) < n_fixed;
  // |E[N] - analytic| <= 3 SE + the rounding of R n_fixed up to whole batches
  // (< kBatches users), since the analytic value is for R n_fixed exactly.
  const std::vector<SequentialDesign> designs = {
      ClassicalDesign(BoundaryShape::kOBrienFleming, EqualFractions(5), kAlpha),
      ClassicalDesign(BoundaryShape::kPocock, EqualFractions(5), kAlpha),
      SpendingDesign(SpendingFunction::kOBrienFleming, EqualFractions(5), kAlpha),
  };
  uint64_t seed = 109;
  for (const auto& d : designs) {
    const double r = InflationFactor(d, kPower);
    const int64_t batch = static_cast<int64_t>(std::ceil(r * FixedN() / kBatches));
    const auto o = SimulateMonitoring(AbSetup(kLift, kPowerReplicates, seed++, batch), {DesignRule("gs", d)})[0];
    const double analytic = r * FixedN() * Evaluate(d, DriftForPower(d, kPower)).expected_fraction;
    SCOPED_TRACE("R = " + std::to_string(r) + ", boundaries end at " + std::to_string(d.boundaries.back()));
    EXPECT_NEAR(o.rejection_rate, kPower, 3 * BinomialSe(kPower, kPowerReplicates));
    EXPECT_LT(o.mean_users_per_arm + 3 * o.mean_users_se, static_cast<double>(FixedN()));
    EXPECT_NEAR(o.mean_users_per_arm, analytic, 3 * o.mean_users_se + (batch * kBatches - r * FixedN()));
  }
}

TEST(ExperimentValidation, InvalidInputNamesTheField) {
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no ConfigError");
  };
  EXPECT_NE(
      message([] { SimulateMonitoring(AbSetup(0.0, 10, 1, 10, 10), {NaiveRule(3, kAlpha)}); }).find("rules[0].looks"),
      std::string::npos);
  EXPECT_NE(message([] {
              SimulateMonitoring({0.05, 1.2, 10, 10, 10, 1}, {FixedHorizonRule(kAlpha)});
            }).find("setup.treatment_rate"),
            std::string::npos);
  EXPECT_NE(
      message([] { SimulateMonitoring(AbSetup(0.0, 10, 1, 10, 10), {BayesRule(5, 0.4)}); }).find("rules[0].threshold"),
      std::string::npos);
  EXPECT_NE(message([] {
              DesignRule("x", SpendingDesign(SpendingFunction::kPocock, {0.3, 1.0}, kAlpha));
            }).find("design.fractions[0]"),
            std::string::npos);
  EXPECT_NE(message([] {
              AtHorizon(SimulateMonitoring(AbSetup(0.0, 10, 1, 10, 10), {FixedHorizonRule(kAlpha)})[0], 11);
            }).find("horizon"),
            std::string::npos);
}

}  // namespace
}  // namespace adsim::stats
