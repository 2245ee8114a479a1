// End-of-run tables: the reviews table (only in runs where held actions can
// be decided), the dictionaries (campaigns, channels, segments, creatives),
// the truth (truth_rates, truth_shocks, campaign_truth), the experiments and
// their looks, the monitors' scores, and the result attributes.
//
// Owns: those tables' schema and the attributes (not the fingerprint).
// May not touch: the run state (it reads it once the run is over).
#pragma once

#include "core/engine/action_applier.h"
#include "core/engine/control_cycle.h"
#include "core/engine/recorder.h"
#include "core/engine/run_state.h"
#include "core/results.h"

namespace adsim::engine {

void AddReviewsTable(const RunState& state, const ActionApplier& applier, Results& results);
void AddEndOfRunTables(const RunState& state, const ControlCycle& cycle, const Recorder& recorder, double wall_seconds,
                       Results& results);

}  // namespace adsim::engine
