// adsim::stats validation: a Monte Carlo driver that measures what the
// monitoring rules of stats.h actually do on simulated two-arm conversion
// streams: false positive rate under A/A, power under A/B, and the number of
// users spent before stopping.
//
// One replicate is one experiment: `batches` batches of `users_per_batch`
// users per arm, conversions Bernoulli(control_rate) in arm A and
// Bernoulli(treatment_rate) in arm B. A batch's conversions are drawn as one
// Binomial(users_per_batch, rate) per arm, which is exactly the sum of the
// batch's Bernoulli draws. Every rule is applied to the same replicates
// (common random numbers), each looking at the cumulative counts after every
// batches / looks batches, and stops at its first rejection; a rule that never
// rejects uses all batches. Replicate r draws from its own Boost mt19937_64
// seeded with StreamSeed(seed, "ab-validation/replicate/<r>"), so results are
// fixed by the seed and do not depend on which rules are evaluated.
//
// The numbers this produces, and how to read them, are in
// docs/experiments-statistics.md ("Validation by simulation").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "strategies/experiments/lib/stats.h"

namespace adsim::stats {

struct AbStreamSetup {
  double control_rate = 0.05;     // p_A in (0, 1)
  double treatment_rate = 0.05;   // p_B in (0, 1)
  int64_t users_per_batch = 100;  // per arm, >= 1
  int batches = 100;              // batches in the maximum sample size, >= 1
  int64_t replicates = 1000;      // >= 1
  uint64_t seed = 1;
};

enum class RuleKind {
  kBoundaries,        // reject at look k when |Z_k| >= boundaries[k] (pooled two-proportion z)
  kMsprt,             // reject when the always-valid p-value of a MixtureSprt drops to alpha
  kBayesProbability,  // "reject" (declare a winner) when P(p_B > p_A) >= threshold or <= 1 - threshold
};

// A monitoring rule: when it looks and when it stops. Build one with the
// functions below rather than by hand.
struct MonitoringRule {
  std::string name;
  RuleKind kind = RuleKind::kBoundaries;
  int looks = 1;                   // equally spaced; must divide AbStreamSetup::batches
  std::vector<double> boundaries;  // kBoundaries: one critical |z| per look (+inf = no stop)
  double tau = 0.0;                // kMsprt: mixing sd, in conversion-rate units
  double alpha = 0.05;             // kMsprt: level of the always-valid p-value
  int64_t burn_in = 0;             // kMsprt: looks before this many users per arm are skipped
  double threshold = 0.95;         // kBayesProbability: decision threshold in (0.5, 1)
  BetaDistribution prior;          // kBayesProbability: the same prior for both arms
};

// |Z_k| >= boundaries[k] at look k of boundaries.size() equally spaced looks.
MonitoringRule BoundaryRule(std::string name, std::vector<double> boundaries);
// The boundaries of a group-sequential design; its fractions must be the
// equally spaced k / K (the driver only looks at equal spacings).
MonitoringRule DesignRule(std::string name, const SequentialDesign& design);
// One look at the end with |z| >= z_{1 - alpha/2}.
MonitoringRule FixedHorizonRule(double alpha);
// The fixed-horizon test at every one of `looks` looks (NaiveDesign).
MonitoringRule NaiveRule(int looks, double alpha);
// mSPRT on d = p_B - p_A with the plug-in variance pA qA / nA + pB qB / nB
// (the variance of ProportionMsprt), updated once per look.
MonitoringRule MsprtRule(int looks, double tau, double alpha, int64_t burn_in = 0);
// Bayesian rule on independent Beta posteriors (ProbabilityBBeatsA).
MonitoringRule BayesRule(int looks, double threshold, BetaDistribution prior = {});

// What one rule did over all replicates.
struct RuleOutcome {
  std::string name;
  int64_t replicates = 0;
  int64_t users_per_batch = 0;
  int horizon = 0;                           // batches in the maximum sample size
  std::vector<int64_t> rejections_by_batch;  // [i]: replicates that stopped rejecting after batch i + 1
  std::vector<int64_t> upper_by_batch;       // the part of those with the estimate B - A > 0
  int64_t rejections = 0;                    // sum of rejections_by_batch
  int64_t upper_rejections = 0;              // sum of upper_by_batch
  double rejection_rate = 0.0;               // rejections / replicates
  double rejection_se = 0.0;                 // sqrt(rate (1 - rate) / replicates)
  double mean_users_per_arm = 0.0;           // E[users per arm at stop]
  double mean_users_se = 0.0;                // sd(users at stop) / sqrt(replicates)
};

// Runs setup.replicates experiments and applies every rule to each. Throws
// ConfigError on invalid setup fields or rules (naming the field), including
// a rule whose looks do not divide setup.batches.
std::vector<RuleOutcome> SimulateMonitoring(const AbStreamSetup& setup, const std::vector<MonitoringRule>& rules);

// The outcome the same rule would have had with the experiment truncated
// after `horizon` batches (1 <= horizon <= outcome.horizon), recomputed from
// the stopping histogram. Only meaningful for rules whose decisions at a look
// do not depend on the planned maximum: the mSPRT, the Bayesian rule and the
// naive rule looking after every batch, not group-sequential boundaries.
RuleOutcome AtHorizon(const RuleOutcome& outcome, int horizon);

// Smallest horizon (in batches) at which AtHorizon(outcome, h).rejection_rate
// >= power, or -1 if even the full horizon does not reach it.
int HorizonForPower(const RuleOutcome& outcome, double power);

// The pooled two-proportion z statistic of TwoProportionZTest, without the
// p-values and intervals; 0 when the pooled rate is 0 or 1 (no evidence
// either way) instead of throwing, since a simulation can hit that.
double PooledZ(const ConversionCounts& a, const ConversionCounts& b);

}  // namespace adsim::stats
