// The platform's click-rate estimate on click-billed channels: the quality
// that ranks and prices bids per click (score = bid per click x quality).
//
// A platform learns click rates from past clicks, so it sees a change in them
// late: no advertiser, and no platform, knows at once that users started
// clicking half as often. The estimate is the true click rate before shocks
// (with fatigue) times a smoothed copy of the live click-rate shock multiplier
// m of each channel x segment. While m is constant since time t0, the copy is
//   m_hat(t) = m + (m_hat(t0) - m) * 2^(-(t - t0) / half_life),
// re-evaluated at each change of m and every kRefresh of simulated time
// (between refreshes it holds its value, as a platform's periodic re-estimate
// would). half_life 0 follows m at once. See docs/engine.md, "The auction".
//
// Owns: the smoothed click-rate multiplier per channel x segment (kept in the
// run state, advanced by run_loop.cc, told of shock changes by shocks.cc).
// May not touch: the true rates or the market.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "core/scenario.h"
#include "core/types.h"

namespace adsim {

class PlatformQuality {
 public:
  static constexpr SimTime kRefresh = kMicrosPerMinute;

  // `half_life`: per channel; cells are channel x segment (k = channel * num_segments + segment).
  void Reset(int num_segments, std::vector<SimTime> half_life) {
    num_segments_ = num_segments;
    half_life_ = std::move(half_life);
    const size_t cells = half_life_.size() * static_cast<size_t>(num_segments);
    estimate_.assign(cells, 1.0);
    target_.assign(cells, 1.0);
    anchor_.assign(cells, 1.0);
    anchor_time_ = 0;
    next_refresh_ = kNever;
  }

  // The live multipliers changed at `now` (a shock started, stepped or ended).
  void OnLiveChange(SimTime now, const std::vector<double>& live) {
    for (size_t k = 0; k < target_.size(); ++k) {
      anchor_[k] = At(k, now);  // where the estimate had got to under the old multiplier
      target_[k] = live[k];
    }
    anchor_time_ = now;
    Refresh(now);
  }

  // Once per opportunity: a comparison unless a refresh is due.
  void Advance(SimTime now) {
    if (now >= next_refresh_) Refresh(now);
  }

  // The estimate of the shock multiplier of channel x segment cell k.
  double Multiplier(int k) const { return estimate_[k]; }

 private:
  static constexpr SimTime kNever = std::numeric_limits<SimTime>::max();

  double At(size_t k, SimTime now) const {
    const SimTime h = half_life_[k / static_cast<size_t>(num_segments_)];
    if (h <= 0) return target_[k];
    const double decay = std::exp2(-static_cast<double>(now - anchor_time_) / static_cast<double>(h));
    return target_[k] + (anchor_[k] - target_[k]) * decay;
  }

  void Refresh(SimTime now) {
    bool moving = false;
    for (size_t k = 0; k < estimate_.size(); ++k) {
      estimate_[k] = At(k, now);
      // Converged to double precision: stop refreshing until the next change.
      if (std::abs(estimate_[k] - target_[k]) > 1e-15 * std::abs(target_[k])) moving = true;
    }
    if (!moving) estimate_ = target_;
    next_refresh_ = moving ? (now / kRefresh + 1) * kRefresh : kNever;
  }

  int num_segments_ = 1;
  std::vector<SimTime> half_life_;
  std::vector<double> estimate_, target_, anchor_;
  SimTime anchor_time_ = 0;
  SimTime next_refresh_ = kNever;
};

// Each channel's quality_half_life, in channel order.
inline std::vector<SimTime> PlatformQualityHalfLives(const Scenario& scenario) {
  std::vector<SimTime> out;
  for (const ChannelSpec& channel : scenario.channels) out.push_back(channel.quality_half_life);
  return out;
}

}  // namespace adsim
