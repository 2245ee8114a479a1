// Monte Carlo driver for the monitoring rules of stats.h; see validation.h.
#include "strategies/experiments/lib/validation.h"

#include <boost/random/binomial_distribution.hpp>
#include <boost/random/mersenne_twister.hpp>
#include <cmath>
#include <limits>
#include <utility>

#include "core/argument_checks.h"
#include "core/random.h"

namespace adsim::stats {
namespace {

constexpr ArgumentChecks kArgs("adsim::stats validation");

void ValidateRule(const MonitoringRule& rule, size_t index, int batches) {
  const std::string field = "rules[" + std::to_string(index) + "]";
  if (rule.looks < 1 || batches % rule.looks != 0)
    kArgs.Fail(field + ".looks", "a divisor of setup.batches = " + std::to_string(batches), std::to_string(rule.looks));
  switch (rule.kind) {
    case RuleKind::kBoundaries:
      if (static_cast<int>(rule.boundaries.size()) != rule.looks)
        kArgs.Fail(field + ".boundaries", std::to_string(rule.looks) + " values (one per look)",
                   std::to_string(rule.boundaries.size()));
      for (size_t k = 0; k < rule.boundaries.size(); ++k)
        if (!(rule.boundaries[k] >= 0.0))
          kArgs.Fail(field + ".boundaries[" + std::to_string(k) + "]", "a value >= 0 (or +inf)",
                     FormatNumber(rule.boundaries[k]));
      break;
    case RuleKind::kMsprt:
      if (!(rule.tau > 0.0) || !std::isfinite(rule.tau))
        kArgs.Fail(field + ".tau", "a finite value > 0", FormatNumber(rule.tau));
      if (!(rule.alpha > 0.0 && rule.alpha < 1.0))
        kArgs.Fail(field + ".alpha", "a value in (0, 1)", FormatNumber(rule.alpha));
      if (rule.burn_in < 0) kArgs.Fail(field + ".burn_in", "a value >= 0", std::to_string(rule.burn_in));
      break;
    case RuleKind::kBayesProbability:
      if (!(rule.threshold > 0.5 && rule.threshold < 1.0))
        kArgs.Fail(field + ".threshold", "a value in (0.5, 1)", FormatNumber(rule.threshold));
      if (!(rule.prior.a > 0.0 && rule.prior.b > 0.0))
        kArgs.Fail(field + ".prior", "shape parameters a > 0 and b > 0",
                   "a = " + FormatNumber(rule.prior.a) + ", b = " + FormatNumber(rule.prior.b));
      break;
  }
}

// Fills the summary fields of an outcome from its histograms.
void Finish(RuleOutcome& o) {
  o.rejections = 0;
  o.upper_rejections = 0;
  double sum = 0.0, sum2 = 0.0;  // of users per arm at stop
  for (int i = 0; i < o.horizon; ++i) {
    o.rejections += o.rejections_by_batch[i];
    o.upper_rejections += o.upper_by_batch[i];
    const double users = static_cast<double>(i + 1) * o.users_per_batch;
    sum += o.rejections_by_batch[i] * users;
    sum2 += o.rejections_by_batch[i] * users * users;
  }
  const double n = static_cast<double>(o.replicates);
  const double full = static_cast<double>(o.horizon) * o.users_per_batch;
  sum += (n - o.rejections) * full;
  sum2 += (n - o.rejections) * full * full;
  o.rejection_rate = o.rejections / n;
  o.rejection_se = std::sqrt(o.rejection_rate * (1.0 - o.rejection_rate) / n);
  o.mean_users_per_arm = sum / n;
  const double var = n > 1 ? std::max(0.0, (sum2 - sum * sum / n) / (n - 1)) : 0.0;
  o.mean_users_se = std::sqrt(var / n);
}

}  // namespace

double PooledZ(const ConversionCounts& a, const ConversionCounts& b) {
  const double na = static_cast<double>(a.users), nb = static_cast<double>(b.users);
  const double pool = static_cast<double>(a.conversions + b.conversions) / (na + nb);
  if (!(pool > 0.0 && pool < 1.0)) return 0.0;
  const double pa = a.conversions / na, pb = b.conversions / nb;
  return (pb - pa) / std::sqrt(pool * (1.0 - pool) * (1.0 / na + 1.0 / nb));
}

MonitoringRule BoundaryRule(std::string name, std::vector<double> boundaries) {
  MonitoringRule r;
  r.name = std::move(name);
  r.kind = RuleKind::kBoundaries;
  r.looks = static_cast<int>(boundaries.size());
  r.boundaries = std::move(boundaries);
  return r;
}

MonitoringRule DesignRule(std::string name, const SequentialDesign& design) {
  if (design.fractions.empty()) kArgs.Fail("design.fractions", "at least one look", "none");
  const std::vector<double> equal = EqualFractions(static_cast<int>(design.fractions.size()));
  for (size_t k = 0; k < equal.size(); ++k)
    if (std::abs(design.fractions[k] - equal[k]) > 1e-12)
      kArgs.Fail("design.fractions[" + std::to_string(k) + "]", "the equally spaced " + FormatNumber(equal[k]),
                 FormatNumber(design.fractions[k]));
  return BoundaryRule(std::move(name), design.boundaries);
}

MonitoringRule FixedHorizonRule(double alpha) {
  kArgs.Probability(alpha, "alpha");
  return BoundaryRule("fixed horizon", {NormalQuantile(1.0 - alpha / 2.0)});
}

MonitoringRule NaiveRule(int looks, double alpha) {
  kArgs.AtLeast(looks, 1, "looks");
  kArgs.Probability(alpha, "alpha");
  return BoundaryRule("naive z every look", NaiveDesign(EqualFractions(looks), alpha).boundaries);
}

MonitoringRule MsprtRule(int looks, double tau, double alpha, int64_t burn_in) {
  MonitoringRule r;
  r.name = "mSPRT";
  r.kind = RuleKind::kMsprt;
  r.looks = looks;
  r.tau = tau;
  r.alpha = alpha;
  r.burn_in = burn_in;
  return r;
}

MonitoringRule BayesRule(int looks, double threshold, BetaDistribution prior) {
  MonitoringRule r;
  r.name = "Bayes P(B>A)";
  r.kind = RuleKind::kBayesProbability;
  r.looks = looks;
  r.threshold = threshold;
  r.prior = prior;
  return r;
}

std::vector<RuleOutcome> SimulateMonitoring(const AbStreamSetup& setup, const std::vector<MonitoringRule>& rules) {
  kArgs.Probability(setup.control_rate, "setup.control_rate");
  kArgs.Probability(setup.treatment_rate, "setup.treatment_rate");
  if (setup.users_per_batch < 1)
    kArgs.Fail("setup.users_per_batch", "at least 1", std::to_string(setup.users_per_batch));
  kArgs.AtLeast(setup.batches, 1, "setup.batches");
  if (setup.replicates < 1) kArgs.Fail("setup.replicates", "at least 1", std::to_string(setup.replicates));
  if (rules.empty()) kArgs.Fail("rules", "at least one rule", "none");
  for (size_t j = 0; j < rules.size(); ++j) ValidateRule(rules[j], j, setup.batches);

  const size_t m = rules.size();
  std::vector<RuleOutcome> out(m);
  std::vector<int> every(m);  // a rule looks after batches that are multiples of every[j]
  for (size_t j = 0; j < m; ++j) {
    out[j].name = rules[j].name;
    out[j].replicates = setup.replicates;
    out[j].users_per_batch = setup.users_per_batch;
    out[j].horizon = setup.batches;
    out[j].rejections_by_batch.assign(setup.batches, 0);
    out[j].upper_by_batch.assign(setup.batches, 0);
    every[j] = setup.batches / rules[j].looks;
  }

  boost::random::binomial_distribution<int64_t, double> draw_a(setup.users_per_batch, setup.control_rate);
  boost::random::binomial_distribution<int64_t, double> draw_b(setup.users_per_batch, setup.treatment_rate);
  std::vector<char> active(m);
  std::vector<MixtureSprt> msprt;
  msprt.reserve(m);
  const MixtureSprt placeholder(1.0, 0.5);  // slot of a rule that is not an mSPRT

  for (int64_t r = 0; r < setup.replicates; ++r) {
    boost::random::mt19937_64 rng(StreamSeed(setup.seed, "ab-validation/replicate/" + std::to_string(r)));
    msprt.clear();
    for (size_t j = 0; j < m; ++j) {
      active[j] = 1;
      msprt.push_back(rules[j].kind == RuleKind::kMsprt ? MixtureSprt(rules[j].tau, rules[j].alpha) : placeholder);
    }
    size_t running = m;
    ConversionCounts a{0, 0}, b{0, 0};
    for (int i = 1; i <= setup.batches && running > 0; ++i) {
      a.conversions += draw_a(rng);
      b.conversions += draw_b(rng);
      a.users += setup.users_per_batch;
      b.users += setup.users_per_batch;
      double z = std::numeric_limits<double>::quiet_NaN();  // computed once per batch, when needed
      for (size_t j = 0; j < m; ++j) {
        if (!active[j] || i % every[j] != 0) continue;
        const MonitoringRule& rule = rules[j];
        bool reject = false, upper = false;
        switch (rule.kind) {
          case RuleKind::kBoundaries: {
            if (std::isnan(z)) z = PooledZ(a, b);
            reject = std::abs(z) >= rule.boundaries[i / every[j] - 1];
            upper = z > 0.0;
            break;
          }
          case RuleKind::kMsprt: {
            if (a.users < rule.burn_in) break;
            const double pa = static_cast<double>(a.conversions) / a.users;
            const double pb = static_cast<double>(b.conversions) / b.users;
            const double v = pa * (1.0 - pa) / a.users + pb * (1.0 - pb) / b.users;
            if (!(v > 0.0)) break;
            msprt[j].Update(pb - pa, v);
            reject = msprt[j].rejected();
            upper = pb > pa;
            break;
          }
          case RuleKind::kBayesProbability: {
            const double p = ProbabilityBBeatsA(Posterior(a, rule.prior), Posterior(b, rule.prior));
            reject = p >= rule.threshold || p <= 1.0 - rule.threshold;
            upper = p >= rule.threshold;
            break;
          }
        }
        if (reject) {
          ++out[j].rejections_by_batch[i - 1];
          if (upper) ++out[j].upper_by_batch[i - 1];
          active[j] = 0;
          --running;
        }
      }
    }
  }
  for (auto& o : out) Finish(o);
  return out;
}

RuleOutcome AtHorizon(const RuleOutcome& outcome, int horizon) {
  if (horizon < 1 || horizon > outcome.horizon)
    kArgs.Fail("horizon", "1 to " + std::to_string(outcome.horizon) + " batches", std::to_string(horizon));
  RuleOutcome o = outcome;
  o.horizon = horizon;
  o.rejections_by_batch.resize(horizon);
  o.upper_by_batch.resize(horizon);
  Finish(o);
  return o;
}

int HorizonForPower(const RuleOutcome& outcome, double power) {
  kArgs.Probability(power, "power");
  int64_t cumulative = 0;
  for (int i = 0; i < outcome.horizon; ++i) {
    cumulative += outcome.rejections_by_batch[i];
    if (static_cast<double>(cumulative) >= power * static_cast<double>(outcome.replicates)) return i + 1;
  }
  return -1;
}

}  // namespace adsim::stats
