// How one run is driven from outside the scenario: seed override, progress,
// cancellation, the oracle flags and a reviewer of held actions. Included by
// core/engine.h; read by the kernel (core/engine/).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>

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
  // Bench- and test-facing, not a scenario setting: when > 0, EVERY campaign
  // bids this multiplier times the true probability that the opportunity
  // converts (per click on click-billed channels, as the oracle bids), with
  // no value, no goal and no pacing scale, and of our campaigns only the one
  // with the highest auction score bids in each auction, so that they never
  // raise each other's price. This is the Lagrangian policy that maximises
  // conversions for a given total spend (bench/oracle_bound.py,
  // docs/strategy-comparison.md, "Are the targets reachable?"). 0 = off.
  double oracle_all_multiplier = 0;
  // With oracle_all_multiplier: the true rates of each (channel, segment,
  // creative) cell and the live shocks only, without the user's own
  // propensity and the creative's fatigue (the bound of a cell-level learner).
  bool oracle_all_cell_truth = false;
  // Bench- and test-facing, not a scenario setting: false = every oracle bid
  // (the per-campaign oracle of `oracle: true`, and oracle_all) leaves out
  // the user's own click propensity and conversion shift, but keeps the true
  // cell rates, the live shocks and the creative's fatigue at that moment:
  // what a bidder could know without observing the user
  // (bench/oracle_gap.py, the rung "+ known fatigue"). Read by OracleBid
  // only, so it changes nothing in a run without an oracle.
  bool oracle_user_truth = true;
  // Decides every held action (of every campaign) in place of the scenario's
  // review rule, after the campaign's review latency (0 if it has none). May
  // throw to abort the run. See core/review.h.
  std::function<ReviewDecision(const ReviewRequest&)> reviewer;
};

}  // namespace adsim
