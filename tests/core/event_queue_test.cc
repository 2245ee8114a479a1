#include "core/event_queue.h"

#include <gtest/gtest.h>

#include <random>

namespace adsim {
namespace {

TEST(EventQueue, TotalOrderIsTimeThenPriorityThenInsertion) {
  EventQueue q;
  q.Push(10, EventKind::kCycle, 1);
  q.Push(5, EventKind::kConversion, 2);
  q.Push(10, EventKind::kDayStart, 3);
  q.Push(10, EventKind::kConversion, 4);
  q.Push(10, EventKind::kConversion, 5);
  q.Push(5, EventKind::kShockEnd, 6);
  q.Push(10, EventKind::kShockStart, 7);
  std::vector<int64_t> order;
  while (!q.empty()) order.push_back(q.Pop().payload);
  // t=5: shock end (priority 2) before conversion (3);
  // t=10: day start (0), shock start (1), conversions (3) in insertion order, cycle (4).
  EXPECT_EQ(order, (std::vector<int64_t>{6, 2, 3, 7, 4, 5, 1}));
}

TEST(EventQueue, ManyRandomEventsComeOutSorted) {
  EventQueue q;
  std::mt19937_64 rng(1);
  for (int i = 0; i < 20000; ++i) q.Push(static_cast<SimTime>(rng() % 1000), static_cast<EventKind>(rng() % 5), i);
  Event prev = q.Pop();
  while (!q.empty()) {
    const Event e = q.Pop();
    ASSERT_TRUE(e.time > prev.time || (e.time == prev.time && e.priority > prev.priority) ||
                (e.time == prev.time && e.priority == prev.priority && e.seq > prev.seq));
    prev = e;
  }
}

}  // namespace
}  // namespace adsim
