// The market interface: where impression opportunities come from. The engine
// only sees this interface, so a log-replay market can replace the synthetic
// one without touching the engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/scenario.h"
#include "core/types.h"

namespace adsim {

// One impression opportunity with the market's private truth attached. Never
// handed to a strategy: the engine builds a BidRequest from it.
struct Opportunity {
  SimTime time = 0;
  int32_t channel = 0;
  int32_t segment = 0;
  int64_t user = 0;
  double propensity = 1.0;      // the user's true click propensity multiplier
  uint64_t response_key = 0;    // seeds the user's response draws (see ResponseRng)
  double competing[kMaxSlots];  // highest competing bids (per-impression value), descending
};

// Multipliers the engine applies from active shocks, per channel x segment.
struct MarketConditions {
  int num_segments = 0;
  std::vector<double> traffic;         // [channel * num_segments + segment]
  std::vector<double> competing_bids;  // same layout
};

class Market {
 public:
  virtual ~Market() = default;
  // Fills `out` with up to `max` opportunities with time < `until`, in
  // non-decreasing time order, continuing where the last call stopped. Returns
  // how many were written; fewer than `max` means none is left before `until`.
  // Must not depend on anything the strategies do (common random numbers).
  virtual size_t Generate(SimTime until, Opportunity* out, size_t max) = 0;
  // Market conditions changed at time `now` (a shock started or ended).
  // Opportunities already generated are unaffected.
  virtual void OnConditionsChanged(SimTime now, const MarketConditions& conditions) = 0;
};

}  // namespace adsim
