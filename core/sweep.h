// Owns running many (scenario, seed) runs on a pool of std::threads: the
// engine behind adsim.sweep and `adsim sweep` (docs/sweeps.md). Each run is
// the same pure function of (scenario, seed) as a single run, so a run's
// result does not depend on the number of workers or on which worker ran it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/results.h"
#include "core/scenario.h"

namespace adsim {

struct SweepRun {
  std::shared_ptr<const Scenario> scenario;  // shared: many runs use one scenario
  uint64_t seed = 0;
};

struct SweepOptions {
  int workers = 1;  // threads running simulations (at least 1)
  // Called on the calling thread (never on a worker) about every 100 ms and
  // after runs finish, with the number of runs done so far. May throw to stop
  // the sweep: the runs in progress are cancelled and the exception is
  // rethrown once every worker has stopped.
  std::function<void(size_t done)> poll;
  // Set by someone else to stop the sweep (Error("sweep cancelled")).
  const std::atomic<bool>* cancel = nullptr;
  // When set, each finished run's result is handed over here instead of
  // being returned: on the calling thread, in the order of `runs`, as soon as
  // the run and every run before it are done, while the workers go on with
  // the next runs. So the caller's own work per run (summaries, writing a
  // file) overlaps the simulations instead of following them; RunSweep then
  // returns empty results. May throw to stop the sweep, as `poll` may.
  std::function<void(size_t index, Results&& result)> consume;
};

// Runs every run and returns their results in the order of `runs` (or hands
// them to `options.consume`). The calling thread only waits, polls and
// consumes; `options.workers` threads take the
// runs in order. The first run that fails stops the others; its error is
// rethrown (ConfigError unchanged, since every run of a scenario shares it;
// other errors prefixed with the run's index and seed).
std::vector<Results> RunSweep(const std::vector<SweepRun>& runs, const SweepOptions& options);

}  // namespace adsim
