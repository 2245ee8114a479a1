// The value bidders' creative-fatigue model (`fatigue: exposure`,
// docs/strategies/bidders/fatigue.md): the click rate of a campaign's creative
// in a segment as a function of that creative's recent exposures, estimated
// only from what the campaign observes (its own impressions and clicks per
// control cycle, Snapshot::last_cycle), never from the truth.
//
// Model. Per (segment, creative) key, exposures E decay with a time constant
// tau and grow by the campaign's impressions of that creative in that segment
// on every channel; the click rate of cell (channel, segment, creative) is
//   ctr(t) = ctr0 * 2^(-E(t) / h).
// The half-life h and the recovery tau are unknown: each point g of a grid
// (h from 2,500 to 320,000 impressions by factors of sqrt 2, tau from 3 hours
// to 8 days by factors of 2 and infinity, plus the point "no fatigue") gets a
// posterior weight from the clicks of the impression-billed cells, with each
// cell's ctr0 profiled out. With the clicks c_t of cycle t Poisson with mean
// ctr0 * n_t * F_t(g), where F_t is the mean of 2^(-E/h) over the cycle's
// impressions (Simpson's rule over the cycle, the impressions spread evenly),
// the profile log likelihood of g is
//   sum over cells and cycles of c_t log F_t(g)  -  sum over cells of C log(A(g) / N),
// with C a cell's clicks, N its impressions and A(g) = sum_t n_t F_t(g) its
// fatigue-adjusted impressions (0 for the no-fatigue point, where F = 1). The
// prior is uniform over the grid's points.
//
// Use. A value bidder's cell estimate pCTR (channel, segment: all creatives,
// the whole history) estimates ctr0 times the mean fatigue of the cell's past
// impressions, A(g) / N, so the current click rate of creative k is
//   pCTR * F_next(g) * N / A(g),
// averaged over the grid's posterior, where F_next is 2^(-E/h) at the middle
// of the next control cycle (exposures projected with the last cycle's
// impression rate). Factor() returns that multiplier, N / A taken over the
// cell's creatives; 1 on click-billed channels (the bid is per click, which
// fatigue does not change) and for cells without impressions (F_next alone).
// Per-cycle cost: grid points x (segments x creatives + cells); Factor() is
// a lookup. creative_thompson (`fatigue: exposure`) uses the per-creative
// summaries (CreativeClicks, CreativeAdjustedImpressions, CreativeNextFatigue).
// State is sized at the first Update (the snapshot gives the number of
// creatives) and never resized.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/strategy.h"
#include "core/types.h"

namespace adsim::valuation {

// Per channel: whether it bills per click (ExposureFatigue::Update's
// click_billed; fatigue is fitted on the other channels' clicks).
inline std::vector<bool> ClickBilledChannels(const PublicScenario& scenario) {
  std::vector<bool> out;
  for (const auto& channel : scenario.channels) out.push_back(channel.billing == Billing::kClick);
  return out;
}

class ExposureFatigue {
 public:
  // Grid of (half-life, recovery) points; the last point is "no fatigue".
  ExposureFatigue() {
    for (int i = 0; i <= 14; ++i)
      for (double tau_hours : kRecoveryHours) {
        half_life_.push_back(2500.0 * std::exp2(0.5 * i));
        recovery_hours_.push_back(tau_hours);
      }
    half_life_.push_back(std::numeric_limits<double>::infinity());
    recovery_hours_.push_back(std::numeric_limits<double>::infinity());
    const size_t ng = half_life_.size();
    log_lik_.assign(ng, 0.0);
    weight_.assign(ng, 1.0 / static_cast<double>(ng));
    decay_.resize(ng);
    half_decay_.resize(ng);
  }

  // Folds the cycle that just ended (snap.last_cycle) into the exposures,
  // the likelihood and the factors. `click_billed` per channel.
  void Update(const Snapshot& snap, int campaign, const std::vector<bool>& click_billed) {
    const int nc = snap.num_channels, ns = snap.num_segments, nk = snap.num_creatives[campaign];
    const size_t ng = half_life_.size();
    if (!sized_) {
      sized_ = true;
      nc_ = nc;
      ns_ = ns;
      nk_ = nk;
      exposure_.assign(static_cast<size_t>(ns) * nk * ng, 0.0);
      adjusted_.assign(static_cast<size_t>(nc) * ns * nk * ng, 0.0);
      impressions_.assign(static_cast<size_t>(nc) * ns * nk, 0.0);
      clicks_.assign(impressions_.size(), 0.0);
      mean_factor_.assign(static_cast<size_t>(ns) * nk * ng, 1.0);
      next_factor_.assign(static_cast<size_t>(ns) * nk * ng, 1.0);
      key_impressions_.assign(static_cast<size_t>(ns) * nk, 0.0);
      key_total_.assign(key_impressions_.size(), 0.0);
      creative_adjusted_.assign(static_cast<size_t>(nk), 0.0);
      creative_clicks_.assign(static_cast<size_t>(nk), 0.0);
      creative_next_.assign(static_cast<size_t>(nk), 1.0);
      factor_.assign(impressions_.size(), 1.0);
      factor_sd_.assign(impressions_.size(), 0.0);
    }
    // Length of the cycle just ended, in hours (the first one: the scenario's control cycle).
    const double cycle_hours =
        static_cast<double>(has_last_ ? snap.time - last_time_ : snap.control_cycle) / kMicrosPerHour;
    has_last_ = true;
    last_time_ = snap.time;
    for (size_t g = 0; g < ng; ++g) {
      const double tau = recovery_hours_[g];
      decay_[g] = std::isfinite(tau) && cycle_hours > 0 ? std::exp(-cycle_hours / tau) : 1.0;
      half_decay_[g] = std::isfinite(tau) && cycle_hours > 0 ? std::exp(-0.5 * cycle_hours / tau) : 1.0;
    }
    // Impressions per key over every channel in the cycle.
    std::fill(key_impressions_.begin(), key_impressions_.end(), 0.0);
    for (int ch = 0; ch < nc; ++ch)
      for (int s = 0; s < ns; ++s)
        for (int k = 0; k < nk; ++k)
          key_impressions_[Key(s, k)] +=
              static_cast<double>(snap.last_cycle[snap.Cell(campaign, ch, s, k)].impressions);
    // Exposures through the cycle per key and grid point: start E0, middle,
    // end, and the middle of the next cycle at the same impression rate.
    for (size_t key = 0; key < key_impressions_.size(); ++key) {
      const double n = key_impressions_[key];
      for (size_t g = 0; g + 1 < ng; ++g) {
        double& e = exposure_[key * ng + g];
        const double h = half_life_[g];
        const double mid = Grown(e, n, half_decay_[g], 0.5, recovery_hours_[g], cycle_hours);
        const double end = Grown(e, n, decay_[g], 1.0, recovery_hours_[g], cycle_hours);
        const double next = Grown(end, n, half_decay_[g], 0.5, recovery_hours_[g], cycle_hours);
        mean_factor_[key * ng + g] = (std::exp2(-e / h) + 4.0 * std::exp2(-mid / h) + std::exp2(-end / h)) / 6.0;
        next_factor_[key * ng + g] = std::exp2(-next / h);
        e = end;
      }
    }
    // Likelihood: each impression-billed cell's clicks of the cycle.
    for (int ch = 0; ch < nc; ++ch)
      for (int s = 0; s < ns; ++s)
        for (int k = 0; k < nk; ++k) {
          const ObservedStats& o = snap.last_cycle[snap.Cell(campaign, ch, s, k)];
          const size_t cell = CellIndex(ch, s, k), key = Key(s, k);
          const double n = static_cast<double>(o.impressions), c = static_cast<double>(o.clicks);
          impressions_[cell] += n;
          if (!click_billed[static_cast<size_t>(ch)]) clicks_[cell] += c;
          for (size_t g = 0; g + 1 < ng; ++g) {
            const double f = mean_factor_[key * ng + g];
            adjusted_[cell * ng + g] += n * f;
            if (c > 0 && !click_billed[static_cast<size_t>(ch)]) log_lik_[g] += c * std::log(f);
          }
        }
    // Posterior over the grid: the running sum of c log F less each cell's C log(A / N).
    double best = -std::numeric_limits<double>::infinity();
    for (size_t g = 0; g < ng; ++g) {
      double l = log_lik_[g];
      if (g + 1 < ng)
        for (size_t cell = 0; cell < impressions_.size(); ++cell)
          if (clicks_[cell] > 0 && impressions_[cell] > 0)
            l -= clicks_[cell] * std::log(std::max(adjusted_[cell * ng + g], 1e-300) / impressions_[cell]);
      weight_[g] = l;
      best = std::max(best, l);
    }
    double sum = 0;
    for (size_t g = 0; g < ng; ++g) sum += weight_[g] = std::exp(weight_[g] - best);
    for (size_t g = 0; g < ng; ++g) weight_[g] /= sum;
    // Per creative (creative_thompson): fatigue-adjusted impressions and
    // clicks over the impression-billed cells, and the fatigue of the next
    // cycle averaged over segments by the creative's impressions so far.
    for (size_t key = 0; key < key_impressions_.size(); ++key) key_total_[key] += key_impressions_[key];
    for (int k = 0; k < nk; ++k) {
      double a = 0, c = 0;
      for (int ch = 0; ch < nc; ++ch) {
        if (click_billed[static_cast<size_t>(ch)]) continue;
        for (int s = 0; s < ns; ++s) {
          const size_t cell = CellIndex(ch, s, k);
          c += clicks_[cell];
          a += weight_[ng - 1] * impressions_[cell];
          for (size_t g = 0; g + 1 < ng; ++g) a += weight_[g] * adjusted_[cell * ng + g];
        }
      }
      double shown = 0;
      for (int s = 0; s < ns; ++s) shown += key_total_[Key(s, k)];
      double next = 0;
      for (int s = 0; s < ns; ++s) {
        const size_t key = Key(s, k);
        const double share = shown > 0 ? key_total_[key] / shown : 1.0 / ns;
        double f = weight_[ng - 1];
        for (size_t g = 0; g + 1 < ng; ++g) f += weight_[g] * next_factor_[key * ng + g];
        next += share * f;
      }
      creative_adjusted_[static_cast<size_t>(k)] = a;
      creative_clicks_[static_cast<size_t>(k)] = std::min(c, a);
      creative_next_[static_cast<size_t>(k)] = next;
    }
    // The bid multipliers: posterior mean of F_next(g) * N / A(g) per cell (channel, segment) and creative.
    for (int ch = 0; ch < nc; ++ch)
      for (int s = 0; s < ns; ++s) {
        double n_cell = 0;
        for (int k = 0; k < nk; ++k) n_cell += impressions_[CellIndex(ch, s, k)];
        for (int k = 0; k < nk; ++k) {
          const size_t cell = CellIndex(ch, s, k), key = Key(s, k);
          if (click_billed[static_cast<size_t>(ch)]) {
            factor_[cell] = 1.0;
            factor_sd_[cell] = 0.0;
            continue;
          }
          double factor = weight_[ng - 1], square = weight_[ng - 1];  // no fatigue: F = 1 and A = N
          for (size_t g = 0; g + 1 < ng; ++g) {
            double a_cell = 0;
            for (int j = 0; j < nk; ++j) a_cell += adjusted_[CellIndex(ch, s, j) * ng + g];
            const double ratio = n_cell > 0 && a_cell > 0 ? n_cell / a_cell : 1.0;
            const double x = next_factor_[key * ng + g] * ratio;
            factor += weight_[g] * x;
            square += weight_[g] * x * x;
          }
          factor_[cell] = factor;
          factor_sd_[cell] = std::sqrt(std::max(0.0, square - factor * factor));
        }
      }
  }

  // The multiplier of cell (channel, segment)'s pCTR for creative `creative`
  // in the next cycle; 1 before the first Update or outside the campaign's creatives.
  double Factor(int channel, int segment, int creative) const {
    if (!sized_ || creative < 0 || creative >= nk_ || channel < 0 || channel >= nc_ || segment < 0 || segment >= ns_)
      return 1.0;
    return factor_[CellIndex(channel, segment, creative)];
  }

  // Per creative, over the impression-billed cells of every segment: the
  // clicks so far, the fatigue-adjusted impressions (posterior mean of A), so
  // that clicks / adjusted estimates the fresh click rate ctr0, and the
  // fatigue expected in the next cycle (posterior mean of F_next, segments
  // weighed by the creative's impressions so far). For creative_thompson.
  double CreativeClicks(int creative) const { return sized_ ? creative_clicks_[static_cast<size_t>(creative)] : 0; }
  double CreativeAdjustedImpressions(int creative) const {
    return sized_ ? creative_adjusted_[static_cast<size_t>(creative)] : 0;
  }
  double CreativeNextFatigue(int creative) const {
    return sized_ ? creative_next_[static_cast<size_t>(creative)] : 1.0;
  }

  // Posterior standard deviation of Factor() over the grid (the uncertainty
  // of the fatigue law; the click-count noise of pCTR comes on top).
  double FactorSd(int channel, int segment, int creative) const {
    if (!sized_ || creative < 0 || creative >= nk_ || channel < 0 || channel >= nc_ || segment < 0 || segment >= ns_)
      return 0.0;
    return factor_sd_[CellIndex(channel, segment, creative)];
  }

  // Posterior means of the half-life (impressions; among the fatigue points)
  // and the posterior weight of "no fatigue": for tests and diagnostics.
  double NoFatigueWeight() const { return weight_.back(); }
  double MeanLogHalfLife() const {
    double m = 0, w = 0;
    for (size_t g = 0; g + 1 < weight_.size(); ++g) {
      m += weight_[g] * std::log(half_life_[g]);
      w += weight_[g];
    }
    return w > 0 ? m / w : 0.0;
  }
  // Posterior mean of the fatigue multiplier 2^(-E/h) of (segment, creative)
  // at the middle of the next cycle (1 under "no fatigue").
  double NextFatigue(int segment, int creative) const {
    if (!sized_) return 1.0;
    const size_t ng = half_life_.size(), key = Key(segment, creative);
    double f = weight_.back();
    for (size_t g = 0; g + 1 < ng; ++g) f += weight_[g] * next_factor_[key * ng + g];
    return f;
  }

 private:
  // Index of a (segment, creative) key and of a (channel, segment, creative) cell.
  size_t Key(int segment, int creative) const { return static_cast<size_t>(segment) * nk_ + creative; }
  size_t CellIndex(int channel, int segment, int creative) const {
    return (static_cast<size_t>(channel) * ns_ + segment) * nk_ + creative;
  }

  // Exposures after a share `part` of a cycle of `hours` during which n
  // impressions arrive evenly, starting from e: e * decay + (n / hours) * tau
  // * (1 - decay), with decay = exp(-part * hours / tau) (n * part without recovery).
  static double Grown(double e, double n, double decay, double part, double tau, double hours) {
    if (!std::isfinite(tau) || !(hours > 0)) return e + n * part;
    return e * decay + (n / hours) * tau * (1.0 - decay);
  }

  static constexpr double kRecoveryHours[] = {3, 6, 12, 24, 48, 96, 192, std::numeric_limits<double>::infinity()};

  std::vector<double> half_life_, recovery_hours_;  // per grid point
  std::vector<double> log_lik_, weight_, decay_, half_decay_;
  std::vector<double> exposure_, mean_factor_, next_factor_;  // per key (segment x creative) x grid point
  std::vector<double> adjusted_;                              // per cell (channel x segment x creative) x grid point
  std::vector<double> impressions_, clicks_, factor_, factor_sd_;  // per cell
  std::vector<double> key_impressions_, key_total_;                // per key: the last cycle's, since the start
  std::vector<double> creative_adjusted_, creative_clicks_, creative_next_;  // per creative (creative_thompson)
  bool sized_ = false, has_last_ = false;
  int nc_ = 0, ns_ = 0, nk_ = 0;
  SimTime last_time_ = 0;
};

}  // namespace adsim::valuation
