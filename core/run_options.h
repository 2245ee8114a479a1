// How one run is driven from outside the scenario: seed override, progress,
// cancellation, the oracle flag and a reviewer of held actions. Included by
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
  // Decides every held action (of every campaign) in place of the scenario's
  // review rule, after the campaign's review latency (0 if it has none). May
  // throw to abort the run. See core/review.h.
  std::function<ReviewDecision(const ReviewRequest&)> reviewer;
};

}  // namespace adsim
