// The heap of sparse events (control cycles, delayed conversions, day starts,
// shock starts and ends). Opportunities are not in it: they come from the
// market's time-ordered streams and are merged with this heap by the engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <queue>
#include <vector>

#include "core/types.h"

namespace adsim {

// Among events at the same time, lower priority values run first. The engine
// processes sparse events at time t before any opportunity at time t.
enum class EventKind : int {
  kDayStart = 0,
  kShockStart = 1,
  kShockEnd = 2,
  kConversion = 3,
  kCycle = 4,
  kShockStep = 5,
  kReview = 6,
  kJourney = 7  // journeys: an organic arrival or a user's incremental candidate (core/engine/journeys.h)
};

// Order among events at the same time: day starts, shock starts and ramp
// steps, shock ends, conversions (and journey events), review decisions, control cycles (a
// decision due at t is in force for the control cycle at t).
inline int PriorityOf(EventKind k) {
  if (k == EventKind::kReview) return 2 * static_cast<int>(EventKind::kCycle) - 1;
  if (k == EventKind::kJourney) return 2 * static_cast<int>(EventKind::kConversion);  // with conversions
  return 2 * (k == EventKind::kShockStep ? 1 : static_cast<int>(k));
}

struct Event {
  SimTime time = 0;
  int priority = 0;
  uint64_t seq = 0;  // insertion order, the last tie-breaker
  EventKind kind = EventKind::kCycle;
  int64_t payload = 0;
};

// Events in the total order (time, priority, insertion sequence).
class EventQueue {
 public:
  void Push(SimTime time, EventKind kind, int64_t payload = 0) {
    heap_.push({time, PriorityOf(kind), seq_++, kind, payload});
  }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  const Event& Top() const { return heap_.top(); }
  Event Pop() {
    Event e = heap_.top();
    heap_.pop();
    return e;
  }

 private:
  struct Later {  // priority_queue is a max-heap: "less" means "runs later"
    bool operator()(const Event& a, const Event& b) const {
      if (a.time != b.time) return a.time > b.time;
      if (a.priority != b.priority) return a.priority > b.priority;
      return a.seq > b.seq;
    }
  };
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  uint64_t seq_ = 0;
};

}  // namespace adsim
