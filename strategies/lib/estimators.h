// Estimators shared by strategies: a Beta-Binomial rate (clicks per
// impression, conversions per click, ...) with a prior and exponential
// discounting of old evidence, and a bank of them per creative fed from the
// snapshot's counters. Everything here sees only what a Snapshot holds (what
// the advertiser observed), never the truth. Random draws come from a
// Boost.Random engine the caller passes in (its own Stream), so results are
// fixed by the Boost version, not by the standard library.
#pragma once

#include <algorithm>
#include <boost/random/beta_distribution.hpp>
#include <cmath>
#include <vector>

#include "core/random.h"
#include "core/strategy.h"
#include "core/types.h"

namespace adsim::estimators {

// Posterior Beta(alpha0 + s, beta0 + n - s) of a rate after s successes in n
// trials, where s and n are discounted counts: Discount(f) multiplies both by
// f, so with f applied once per cycle, evidence k cycles old weighs f^k.
struct BetaBinomial {
  double alpha0 = 1.0, beta0 = 1.0;      // prior pseudo-counts (successes, failures)
  double successes = 0.0, trials = 0.0;  // discounted evidence

  void Discount(double factor) {
    successes *= factor;
    trials *= factor;
  }
  void Add(double s, double n) {
    successes += s;
    trials += n;
  }
  double Alpha() const { return alpha0 + successes; }
  double Beta() const { return beta0 + std::max(0.0, trials - successes); }
  // Posterior mean (alpha0 + s) / (alpha0 + beta0 + n).
  double Mean() const { return Alpha() / (Alpha() + Beta()); }
  // Posterior variance a b / ((a + b)^2 (a + b + 1)).
  double Variance() const {
    const double a = Alpha(), b = Beta(), t = a + b;
    return a * b / (t * t * (t + 1.0));
  }
  // Maximum-likelihood rate s / n, or `otherwise` without evidence.
  double Rate(double otherwise = 0.0) const { return trials > 0 ? successes / trials : otherwise; }
  // One draw from the posterior.
  template <class Engine>
  double Sample(Engine& engine) const {
    boost::random::beta_distribution<double> beta(Alpha(), Beta());
    return beta(engine);
  }
};

// The per-cycle discount factor for a memory half-life: evidence half_life old
// weighs 1/2, so factor = 2^(-control_cycle / half_life). A half-life of 0 (or
// less) means no discounting (factor 1: all history weighs the same).
inline double DiscountPerCycle(SimTime control_cycle, double half_life_hours) {
  if (!(half_life_hours > 0)) return 1.0;
  return std::exp2(-static_cast<double>(control_cycle) / (half_life_hours * static_cast<double>(kMicrosPerHour)));
}

// Sums a campaign's cells of `table` (snapshot.total, last_cycle or today) per
// creative, over every channel and segment: clicks and impressions.
inline void CreativeCounts(const Snapshot& snap, const std::vector<ObservedStats>& table, int campaign,
                           std::vector<double>* clicks, std::vector<double>* impressions) {
  const int nk = snap.num_creatives[campaign];
  clicks->assign(nk, 0.0);
  impressions->assign(nk, 0.0);
  for (int ch = 0; ch < snap.num_channels; ++ch)
    for (int s = 0; s < snap.num_segments; ++s)
      for (int cr = 0; cr < nk; ++cr) {
        const ObservedStats& o = table[snap.Cell(campaign, ch, s, cr)];
        (*clicks)[cr] += static_cast<double>(o.clicks);
        (*impressions)[cr] += static_cast<double>(o.impressions);
      }
}

// One discounted Beta-Binomial click rate per creative of a campaign. Call
// Update() once per control cycle: it discounts the old evidence and adds the
// clicks and impressions of the cycle just ended (snapshot.last_cycle).
class CreativeClickRates {
 public:
  CreativeClickRates(double alpha0, double beta0, double discount_per_cycle)
      : alpha0_(alpha0), beta0_(beta0), discount_(discount_per_cycle) {}

  void Update(const Snapshot& snap, int campaign) {
    const int nk = snap.num_creatives[campaign];
    if (static_cast<int>(arms_.size()) != nk) arms_.assign(nk, BetaBinomial{alpha0_, beta0_, 0.0, 0.0});
    CreativeCounts(snap, snap.last_cycle, campaign, &clicks_, &impressions_);
    for (int cr = 0; cr < nk; ++cr) {
      arms_[cr].Discount(discount_);
      arms_[cr].Add(clicks_[cr], impressions_[cr]);
    }
  }
  int size() const { return static_cast<int>(arms_.size()); }
  const BetaBinomial& operator[](int creative) const { return arms_[creative]; }

 private:
  double alpha0_, beta0_, discount_;
  std::vector<BetaBinomial> arms_;
  std::vector<double> clicks_, impressions_;  // scratch
};

// The unpaused creatives of a campaign, in index order.
inline std::vector<int> UnpausedCreatives(const CampaignState& state) {
  std::vector<int> out;
  for (size_t cr = 0; cr < state.creative_paused.size(); ++cr)
    if (!state.creative_paused[cr]) out.push_back(static_cast<int>(cr));
  return out;
}

// What a creative-rotation decision looked at: per creative, the value of
// `metric` it saw (indexed like the campaign's creatives), and the value it
// was compared with (the best creative's, or a minimum of evidence).
struct WeightEvidence {
  std::string metric;
  std::vector<double> observed;
  double threshold = std::nan("");
};

// Appends one kSetCreativeWeight action per creative whose weight differs
// from the campaign's current one (by more than a relative 1e-6), so a
// controller that keeps its allocation emits nothing. Each action carries
// `evidence` (its own creative's observed value).
inline void SetCreativeWeights(const CampaignState& state, int campaign, const std::vector<double>& weights,
                               const std::string& reason, const WeightEvidence& evidence,
                               std::vector<Action>* actions) {
  for (size_t cr = 0; cr < weights.size() && cr < state.creative_weight.size(); ++cr) {
    const double old = state.creative_weight[cr];
    if (std::fabs(weights[cr] - old) <= 1e-6 * std::max(1.0, std::fabs(old))) continue;
    Action a;
    a.kind = ActionKind::kSetCreativeWeight;
    a.campaign = campaign;
    a.creative = static_cast<int>(cr);
    a.value = weights[cr];
    a.reason = reason;
    a.metric = evidence.metric;
    if (cr < evidence.observed.size()) a.observed = evidence.observed[cr];
    a.threshold = evidence.threshold;
    actions->push_back(std::move(a));
  }
}

}  // namespace adsim::estimators
