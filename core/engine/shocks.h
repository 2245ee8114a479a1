// Shocks: turns the active shocks of the scenario into market conditions
// (traffic, competing bids, told to the market) and response multipliers
// (click rate, conversion rate, tracking), and steps ramps.
//
// Owns: which shocks are active; the multipliers in the run state.
// May not touch: counters, campaigns, components, results tables.
#pragma once

#include <vector>

#include "core/engine/run_state.h"

namespace adsim::engine {

class Shocks {
 public:
  // Sizes the multipliers (all 1) and resets the platform's click-rate estimate.
  explicit Shocks(RunState& state);
  // Pushes every shock's start and end that falls inside the run.
  void ScheduleAll();
  // A kShockStart, kShockEnd or kShockStep event.
  void Handle(const Event& event);

 private:
  void Recompute(SimTime now);

  RunState& state_;
  std::vector<bool> active_;
};

}  // namespace adsim::engine
