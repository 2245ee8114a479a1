// Setup: turns a Scenario into the run state, the experiments and the
// components of one run. The only caller of the component registry and of
// the market registry (MakeMarket, core/market.h) in the kernel.
//
// Owns: construction order and every component's BuildContext.
// May not touch: anything after construction (no run logic here).
#pragma once

#include "core/engine/control_cycle.h"
#include "core/engine/experiment_runtime.h"
#include "core/engine/run_state.h"

namespace adsim::engine {

// Checks every component first (all problems reported together, as a
// ConfigError), then fills `state`, `experiments` and `components`.
void SetUp(RunState& state, Experiments& experiments, Components& components);

}  // namespace adsim::engine
