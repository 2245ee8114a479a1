// Owns the interface through which a strategy reads what a run with journeys
// (docs/journeys.md) lets an advertiser observe at a control cycle: its own
// touchpoints per user (as attribution paths, with every conversion so far)
// and the counts of its user holdouts (docs/attribution.md, "Holdout-measured
// incrementality"). Never the simulator's organic/incremental labels or the
// lifts. The engine's Journeys implements it; budget_reallocation reads it
// through BuildContext::journeys.
#pragma once

#include "core/attribution/paths.h"
#include "core/types.h"

namespace adsim {

class JourneyObservations {
 public:
  virtual ~JourneyObservations() = default;
  // The path data at `now`: one path per distinct path of the conversions so
  // far (with their count and value; conversions without a touchpoint in
  // their windows are left out), the users whose touches since their last
  // conversion have not converted yet as nulls, and the holdout counts so far
  // (`PathData::holdout`, empty without `journeys.holdout`). Per-cycle code:
  // it walks every user, O(users x touchpoints), and allocates.
  virtual attribution::PathData PathsSoFar(SimTime now) const = 0;
};

}  // namespace adsim
