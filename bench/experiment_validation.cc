// Monte Carlo validation of the A/B monitoring rules of adsim::stats: prints
// the markdown tables of docs/experiments-statistics.md ("Validation by
// simulation").
//   build/bench/adsim_experiment_validation [REPLICATES] [SEED]
// REPLICATES (default 20000) is per simulated setting; SEED (default 2026)
// fixes every number. Base conversion rate 5%, design lift +10% relative
// (5.0% -> 5.5%), two-sided alpha 0.05, power 0.8.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.h"
#include "strategies/experiments/lib/stats.h"
#include "strategies/experiments/lib/validation.h"

namespace {

using namespace adsim::stats;

constexpr double kBase = 0.05;
constexpr double kDesignLift = 0.10;
constexpr double kAlpha = 0.05;
constexpr double kPower = 0.8;
constexpr int kBatches = 100;  // the finest look schedule: "continuous" monitoring

std::string Rate(const RuleOutcome& o) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f ± %.4f", o.rejection_rate, o.rejection_se);
  return buf;
}

// The monitoring rules compared, all at two-sided alpha (the Bayesian one at
// its own threshold), for a given number of equally spaced looks.
struct Method {
  std::string name;
  bool exact_available;  // a boundary rule whose H0 crossing probability the recursion computes
  MonitoringRule (*make)(int looks, double mde);
};

MonitoringRule Obf(int k, double) {
  return DesignRule("OBF", ClassicalDesign(BoundaryShape::kOBrienFleming, EqualFractions(k), kAlpha));
}
MonitoringRule Pocock(int k, double) {
  return DesignRule("Pocock", ClassicalDesign(BoundaryShape::kPocock, EqualFractions(k), kAlpha));
}
MonitoringRule LanDeMets(int k, double) {
  return DesignRule("LD-OBF", SpendingDesign(SpendingFunction::kOBrienFleming, EqualFractions(k), kAlpha));
}
MonitoringRule Naive(int k, double) { return NaiveRule(k, kAlpha); }
MonitoringRule Msprt(int k, double mde) { return MsprtRule(k, mde, kAlpha); }
MonitoringRule Bayes95(int k, double) { return BayesRule(k, 0.95); }
MonitoringRule Bayes975(int k, double) { return BayesRule(k, 0.975); }

double ExactAaRate(const MonitoringRule& r) { return Crossing(EqualFractions(r.looks), r.boundaries, 0.0).Total(); }

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t replicates = argc > 1 ? std::atoll(argv[1]) : 20000;
  const uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 2026;
  const auto t_start = std::chrono::steady_clock::now();
  try {
    const double mde = kBase * kDesignLift;
    const int64_t n_fixed = SampleSizeProportions(kBase, mde, kAlpha, kPower);
    const int64_t batch = (n_fixed + kBatches - 1) / kBatches;
    const int64_t n_max = batch * kBatches;
    std::printf("# adsim_experiment_validation replicates=%lld seed=%llu\n\n", static_cast<long long>(replicates),
                static_cast<unsigned long long>(seed));
    std::printf(
        "Base rate %.3f, design lift +%.0f%% (absolute %.4f), two-sided alpha %.2f, power %.2f: fixed-horizon n = "
        "%lld users per arm. Maximum sample size %lld per arm = %d batches of %lld; mSPRT tau = %.4f (the design "
        "difference), burn-in 0; Bayes: Beta(1, 1) priors, a winner is declared when P(B > A) >= threshold or <= 1 - "
        "threshold.\n\n",
        kBase, 100 * kDesignLift, mde, kAlpha, kPower, static_cast<long long>(n_fixed), static_cast<long long>(n_max),
        kBatches, static_cast<long long>(batch), mde);

    const std::vector<Method> methods = {
        {"naive z-test at every look", true, Naive},
        {"classical O'Brien-Fleming (designed for K looks)", true, Obf},
        {"classical Pocock (designed for K looks)", true, Pocock},
        {"Lan-DeMets OBF-type spending", true, LanDeMets},
        {"mSPRT (always valid)", false, Msprt},
        {"Bayes P(B>A) >= 0.95 (not a test)", false, Bayes95},
        {"Bayes P(B>A) >= 0.975 (not a test)", false, Bayes975},
    };
    const std::vector<int> look_counts = {5, 20, 100};

    // ---- Table 1: A/A false positive rate.
    auto t0 = std::chrono::steady_clock::now();
    std::vector<MonitoringRule> rules = {FixedHorizonRule(kAlpha)};
    for (const auto& m : methods)
      for (int k : look_counts) rules.push_back(m.make(k, mde));
    // Misuse: boundaries built for 5 looks, applied at 100 looks by
    // information fraction (OBF shape c5 / sqrt(t); Pocock's constant c5).
    const SequentialDesign obf5 = ClassicalDesign(BoundaryShape::kOBrienFleming, EqualFractions(5), kAlpha);
    const SequentialDesign pocock5 = ClassicalDesign(BoundaryShape::kPocock, EqualFractions(5), kAlpha);
    std::vector<double> obf_misused(kBatches), pocock_misused(kBatches, pocock5.boundaries[0]);
    for (int k = 0; k < kBatches; ++k) obf_misused[k] = obf5.boundaries.back() * std::sqrt(kBatches / (k + 1.0));
    rules.push_back(BoundaryRule("OBF 5-look boundary at 100 looks", obf_misused));
    rules.push_back(BoundaryRule("Pocock 5-look constant at 100 looks", pocock_misused));
    const double design_seconds = Seconds(t0);
    t0 = std::chrono::steady_clock::now();
    const AbStreamSetup aa{kBase, kBase, batch, kBatches, replicates, seed};
    const auto aa_out = SimulateMonitoring(aa, rules);
    std::printf(
        "## A/A false positive rate (%lld replicates, %lld users per arm at most; %.1f s to build designs, "
        "%.1f s to simulate)\n\n",
        static_cast<long long>(replicates), static_cast<long long>(n_max), design_seconds, Seconds(t0));
    std::printf(
        "Rejection rate ± binomial SE; in brackets the exact rate of the boundaries for Brownian motion "
        "(recursive integration).\n\n");
    std::printf("| method | 5 looks | 20 looks | 100 looks |\n|---|---|---|---|\n");
    std::printf("| fixed horizon, 1 look | %s [%.4f] | | |\n", Rate(aa_out[0]).c_str(), kAlpha);
    size_t idx = 1;
    for (const auto& m : methods) {
      std::printf("| %s |", m.name.c_str());
      for (size_t c = 0; c < look_counts.size(); ++c, ++idx) {
        std::printf(" %s", Rate(aa_out[idx]).c_str());
        if (m.exact_available) std::printf(" [%.4f]", ExactAaRate(rules[idx]));
        std::printf(" |");
      }
      std::printf("\n");
    }
    for (; idx < rules.size(); ++idx)
      std::printf("| misuse: %s | | | %s [%.4f] |\n", rules[idx].name.c_str(), Rate(aa_out[idx]).c_str(),
                  ExactAaRate(rules[idx]));
    std::printf("\n");

    // ---- Table 2: power against the relative lift, same maximum sample size.
    t0 = std::chrono::steady_clock::now();
    const std::vector<double> lifts = {0.0, 0.025, 0.05, 0.075, 0.10, 0.125, 0.15, 0.20};
    std::vector<MonitoringRule> power_rules = {FixedHorizonRule(kAlpha), Obf(5, mde),         Pocock(5, mde),
                                               LanDeMets(5, mde),        LanDeMets(100, mde), Msprt(100, mde),
                                               Naive(100, mde),          Bayes95(100, mde)};
    const std::vector<std::string> power_names = {"fixed horizon",
                                                  "OBF, 5 looks",
                                                  "Pocock, 5 looks",
                                                  "LD-OBF, 5 looks",
                                                  "LD-OBF, 100 looks",
                                                  "mSPRT, 100 looks",
                                                  "naive, 100 looks (invalid)",
                                                  "Bayes 0.95, 100 looks (not a test)"};
    std::vector<std::vector<RuleOutcome>> power_out;
    for (size_t l = 0; l < lifts.size(); ++l) {
      const AbStreamSetup s{kBase, kBase * (1.0 + lifts[l]), batch, kBatches, replicates, seed + 1};
      power_out.push_back(SimulateMonitoring(s, power_rules));
    }
    std::printf(
        "## Power against relative lift (max %lld users per arm, %lld replicates per lift, same seed for "
        "every lift; %.1f s)\n\n",
        static_cast<long long>(n_max), static_cast<long long>(replicates), Seconds(t0));
    std::printf("P(reject H0) ± SE ≤ %.4f everywhere; lift 0 is the A/A rate.\n\n",
                0.5 / std::sqrt(static_cast<double>(replicates)));
    std::printf("| method |");
    for (double l : lifts) std::printf(" +%.1f%% |", 100 * l);
    std::printf("\n|---|");
    for (size_t l = 0; l < lifts.size(); ++l) std::printf("---|");
    std::printf("\n");
    for (size_t j = 0; j < power_rules.size(); ++j) {
      std::printf("| %s |", power_names[j].c_str());
      for (size_t l = 0; l < lifts.size(); ++l) std::printf(" %.3f |", power_out[l][j].rejection_rate);
      std::printf("\n");
    }
    std::printf("| mean users per arm at stop, mSPRT |");
    for (size_t l = 0; l < lifts.size(); ++l) std::printf(" %.0f |", power_out[l][5].mean_users_per_arm);
    std::printf("\n| mean users per arm at stop, LD-OBF 100 looks |");
    for (size_t l = 0; l < lifts.size(); ++l) std::printf(" %.0f |", power_out[l][4].mean_users_per_arm);
    std::printf("\n\n");

    // ---- Table 3: expected sample size at the same power.
    t0 = std::chrono::steady_clock::now();
    std::printf("## Expected sample size at %.0f%% power for +%.0f%% lift (fixed-horizon n = %lld per arm)\n\n",
                100 * kPower, 100 * kDesignLift, static_cast<long long>(n_fixed));
    std::printf(
        "Group-sequential designs are inflated to R x n so that their power is %.2f; the mSPRT horizon is the "
        "smallest one (on the 1%%-of-n grid) with power >= %.2f in a calibration run (seed + 3), then evaluated on "
        "fresh replicates (seed + 4). E[N] ± SE in users per arm; 'analytic' is R n times Evaluate()'s expected "
        "fraction.\n\n",
        kPower, kPower);
    std::printf(
        "| method | max N per arm | power (MC) | E[N] under H1 | E[N]/n under H1 | analytic E[N]/n | E[N] under "
        "H0 | E[N]/n under H0 |\n|---|---|---|---|---|---|---|---|\n");
    const double p1 = kBase * (1.0 + kDesignLift);
    {
      const AbStreamSetup h1{kBase, p1, n_fixed, 1, replicates, seed + 2};
      const auto o = SimulateMonitoring(h1, {FixedHorizonRule(kAlpha)})[0];
      std::printf("| fixed horizon | %lld | %s | %lld | 1.000 | 1.000 | %lld | 1.000 |\n",
                  static_cast<long long>(n_fixed), Rate(o).c_str(), static_cast<long long>(n_fixed),
                  static_cast<long long>(n_fixed));
    }
    struct Gs {
      std::string name;
      SequentialDesign design;
    };
    const std::vector<Gs> designs = {
        {"OBF, 5 looks", obf5},
        {"Pocock, 5 looks", pocock5},
        {"LD-OBF, 5 looks", SpendingDesign(SpendingFunction::kOBrienFleming, EqualFractions(5), kAlpha)},
        {"LD-OBF, 20 looks", SpendingDesign(SpendingFunction::kOBrienFleming, EqualFractions(20), kAlpha)},
        {"Pocock, 20 looks", ClassicalDesign(BoundaryShape::kPocock, EqualFractions(20), kAlpha)},
    };
    for (const auto& g : designs) {
      const double r = InflationFactor(g.design, kPower);
      const int64_t gs_batch =
          static_cast<int64_t>(std::ceil(r * static_cast<double>(n_fixed) / kBatches));  // per batch, per arm
      const int64_t gs_max = gs_batch * kBatches;
      const MonitoringRule rule = DesignRule(g.name, g.design);
      const auto o1 = SimulateMonitoring({kBase, p1, gs_batch, kBatches, replicates, seed + 2}, {rule})[0];
      const auto o0 = SimulateMonitoring({kBase, kBase, gs_batch, kBatches, replicates, seed + 2}, {rule})[0];
      const double analytic = r * Evaluate(g.design, DriftForPower(g.design, kPower)).expected_fraction;
      std::printf("| %s (R = %.4f) | %lld | %s | %.0f ± %.0f | %.3f | %.3f | %.0f ± %.0f | %.3f |\n", g.name.c_str(), r,
                  static_cast<long long>(gs_max), Rate(o1).c_str(), o1.mean_users_per_arm, o1.mean_users_se,
                  o1.mean_users_per_arm / n_fixed, analytic, o0.mean_users_per_arm, o0.mean_users_se,
                  o0.mean_users_per_arm / n_fixed);
    }
    for (double tau_factor : {0.5, 1.0, 2.0}) {
      // The mSPRT never needs the horizon to decide, so one long run (up to
      // 4 n) gives its power and E[N] at every horizon on the batch grid.
      constexpr int kLong = 4 * kBatches;
      MonitoringRule every_batch = MsprtRule(kLong, tau_factor * mde, kAlpha);
      const auto calib = SimulateMonitoring({kBase, p1, batch, kLong, replicates, seed + 3}, {every_batch})[0];
      const int h = HorizonForPower(calib, kPower);
      if (h < 0) {
        std::printf("| mSPRT, tau = %.1f x difference | > %lld | %.3f at 4 n | | | | | |\n", tau_factor,
                    static_cast<long long>(kLong) * batch, calib.rejection_rate);
        continue;
      }
      const auto o1 =
          AtHorizon(SimulateMonitoring({kBase, p1, batch, kLong, replicates, seed + 4}, {every_batch})[0], h);
      const auto o0 =
          AtHorizon(SimulateMonitoring({kBase, kBase, batch, kLong, replicates, seed + 4}, {every_batch})[0], h);
      std::printf(
          "| mSPRT, tau = %.1f x difference, a look per batch | %lld | %s | %.0f ± %.0f | %.3f | | %.0f ± %.0f "
          "| %.3f |\n",
          tau_factor, static_cast<long long>(h) * batch, Rate(o1).c_str(), o1.mean_users_per_arm, o1.mean_users_se,
          o1.mean_users_per_arm / n_fixed, o0.mean_users_per_arm, o0.mean_users_se, o0.mean_users_per_arm / n_fixed);
    }
    std::printf("\n(%.1f s for this table)\n\n", Seconds(t0));
  } catch (const adsim::Error& e) {
    std::fprintf(stderr, "adsim_experiment_validation: %s\n", e.what());
    return 2;
  }
  std::printf("Total wall time: %.1f s\n", Seconds(t_start));
  return 0;
}
