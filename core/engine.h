// The engine: merges the market's time-ordered opportunity streams with a heap
// of sparse events (control cycles, delayed conversions, day starts, shocks),
// runs each auction, applies user responses, the ledger and the guardrails,
// and produces Results. A run is a pure function of (scenario, seed, version).
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "core/results.h"
#include "core/review.h"
#include "core/scenario.h"

namespace adsim {

struct RunOptions {
  std::optional<uint64_t> seed;  // overrides the scenario's seed
  // Called once per control cycle with the fraction of simulated time done.
  std::function<void(double)> progress;
  // Polled once per control cycle and, cheaply, per batch of opportunities
  // and per sparse event (core/interrupt.h); a run that sees it set throws
  // Error("run cancelled"). The CLI's SIGINT handler sets it.
  const std::atomic<bool>* cancel = nullptr;
  // Called from the run loop about every 100 ms of wall time (never more
  // often); may throw to stop the run. The Python module checks for
  // KeyboardInterrupt (Ctrl-C) with it.
  std::function<void()> check_interrupt;
  // Internal: this run is the oracle of another for this campaign (see
  // Scenario::oracle): its bidder is replaced by the true expected value of
  // the impression; -1 = an ordinary run.
  int oracle_campaign = -1;
  // Decides every held action (of every campaign) in place of the scenario's
  // review rule, after the campaign's review latency (0 if it has none). May
  // throw to abort the run. See core/review.h.
  std::function<ReviewDecision(const ReviewRequest&)> reviewer;
};

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
