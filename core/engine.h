// The engine's public entry points; the kernel behind them is in core/engine/
// (docs/engine.md, "Layout"). The engine merges the market's time-ordered
// opportunity streams with a heap of sparse events (control cycles, delayed
// conversions, day starts, shocks), runs each auction, applies user
// responses, the ledger and the guardrails, and produces Results. A run is a
// pure function of (scenario, seed, version).
#pragma once

#include <cstdint>

#include "core/results.h"
#include "core/run_options.h"
#include "core/scenario.h"

namespace adsim {

// The scenario the oracle of `campaign` runs: the same market, seed and
// competitors (every other campaign as configured); the campaign's bidder
// knows the true rates, its only controller is pid_pacing (default
// parameters) when it has a budget, and no other controller may change it, so
// it keeps the scenario's budgets. No experiment analyses, no event log.
Scenario OracleScenario(const Scenario& scenario, int campaign);

// Throws ConfigError when the scenario names unknown components or has no seed.
// With scenario.oracle set, also runs the oracle and adds the `oracle` table.
Results RunScenario(const Scenario& scenario, const RunOptions& options = {});

// The seed a run will use: the option, else the scenario's; an error if neither.
uint64_t ResolveSeed(const Scenario& scenario, const RunOptions& options);

// A 64-bit fingerprint of every table's content (not of the attributes that
// vary between identical runs, such as wall time).
uint64_t Fingerprint(const Results& results);

}  // namespace adsim
