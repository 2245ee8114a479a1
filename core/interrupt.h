// Stopping a long run from outside: the CLI's SIGINT handler sets
// RunOptions::cancel, the Python module checks for KeyboardInterrupt through
// RunOptions::check_interrupt. The run loop polls both through this class,
// cheaply: the flag once per batch of opportunities and per sparse event (one
// relaxed atomic load), the callback, which may take Python's GIL, only when
// about 100 ms of wall time have passed since its last call. Wall time decides
// only how often we look, never what the run does, so results do not change.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>

#include "core/error.h"

namespace adsim {

class InterruptPoller {
 public:
  InterruptPoller(const std::atomic<bool>* cancel, const std::function<void()>* check)
      : cancel_(cancel), check_(check && *check ? check : nullptr), next_check_(Clock::now() + kCheckEvery) {}

  // After a batch of opportunities or a sparse event. Throws Error("run
  // cancelled") once the flag is set; whatever the callback throws goes through.
  void Poll() {
    if (cancel_ && cancel_->load(std::memory_order_relaxed)) throw Error("run cancelled");
    // Reading the clock costs ~20 ns: do it every 16th call (1,024 opportunities).
    if (check_ && ++calls_ % 16 == 0 && Clock::now() >= next_check_) {
      (*check_)();
      next_check_ = Clock::now() + kCheckEvery;
    }
  }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kCheckEvery{100};
  const std::atomic<bool>* cancel_;
  const std::function<void()>* check_;
  Clock::time_point next_check_;
  unsigned calls_ = 0;
};

}  // namespace adsim
