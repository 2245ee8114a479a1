// The run loop counts requests and bids per cell in its own dense array and
// folds them into the cell counters at every horizon (run_loop.h,
// RequestCounts): each request must land in its own bucket (checked against
// the market table, which counts every opportunity without the fold), and
// what a controller's snapshot says at each control cycle must be exactly
// what the aggregates table says about the buckets before it.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/registry.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;
using test::Parse;
using test::SmallScenario;

// What the snapshot said at each cycle: (time, campaign) -> (requests, bids)
// summed over the campaign's cells since the start.
std::map<std::pair<SimTime, int>, std::pair<int64_t, int64_t>>& SeenTotals() {
  static std::map<std::pair<SimTime, int>, std::pair<int64_t, int64_t>> seen;
  return seen;
}

class CountRecorder final : public Controller {
 public:
  void OnCycle(const Snapshot& snapshot, int campaign, std::vector<Action>*) override {
    const ObservedStats total = snapshot.CampaignTotal(snapshot.total, campaign);
    SeenTotals()[{snapshot.time, campaign}] = {total.requests, total.bids};
  }
};
const Registration kCountRecorder({.name = "test_count_recorder",
                                   .kind = ComponentKind::kController,
                                   .description = "test: records the snapshot's request and bid totals",
                                   .params = {},
                                   .campaign_scoped = true,
                                   .origin = "C++",
                                   .make_bidder = nullptr,
                                   .make_controller = [](const BuildContext&) -> std::unique_ptr<Controller> {
                                     return std::make_unique<CountRecorder>();
                                   }});

TEST(RunLoopCounts, SnapshotTotalsAtEachCycleEqualTheAggregatesOfTheBucketsBefore) {
  SeenTotals().clear();
  // Both campaigns record; "one" spends its daily budget early, so later
  // requests are counted without bids, and conversions arrive between cycles
  // (each arrival is a horizon, and a fold).
  std::string text = SmallScenario("    controllers: [test_count_recorder]\n",
                                   "    controllers: [test_count_recorder]\n", "2d", 40000);
  const Results r = RunScenario(Parse(text));
  const auto& bucket = Col<int64_t>(r, "aggregates", "bucket_start");
  const auto& campaign = Col<int64_t>(r, "aggregates", "campaign");
  const auto& opportunities = Col<int64_t>(r, "aggregates", "opportunities");
  const auto& bids = Col<int64_t>(r, "aggregates", "bids");
  // Campaign "one" is eligible for every opportunity of both channels and
  // segments and is never paused: its requests are the market's opportunities.
  const auto& market_bucket = Col<int64_t>(r, "market", "bucket_start");
  const auto& market_opportunities = Col<int64_t>(r, "market", "opportunities");
  std::map<SimTime, int64_t> market_per_bucket, one_per_bucket;
  for (size_t i = 0; i < market_bucket.size(); ++i) market_per_bucket[market_bucket[i]] += market_opportunities[i];
  for (size_t i = 0; i < bucket.size(); ++i)
    if (campaign[i] == 0) one_per_bucket[bucket[i]] += opportunities[i];
  EXPECT_EQ(one_per_bucket, market_per_bucket);
  int checked = 0;
  int64_t last_requests = 0;
  for (const auto& [key, seen] : SeenTotals()) {
    const auto [time, seen_campaign] = key;
    if (time % kMicrosPerHour != 0) continue;  // the tables resolve whole buckets only
    int64_t requests_before = 0, bids_before = 0, market_before = 0;
    for (size_t i = 0; i < bucket.size(); ++i)
      if (campaign[i] == seen_campaign && bucket[i] < time) {
        requests_before += opportunities[i];
        bids_before += bids[i];
      }
    for (const auto& [start, count] : market_per_bucket)
      if (start < time) market_before += count;
    EXPECT_EQ(seen.first, requests_before) << "campaign " << seen_campaign << " at t = " << time;
    EXPECT_EQ(seen.second, bids_before) << "campaign " << seen_campaign << " at t = " << time;
    if (seen_campaign == 0) {
      EXPECT_EQ(seen.first, market_before) << "at t = " << time;
      last_requests = seen.first;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 2 * 48);        // two campaigns, a cycle on each hour of two days
  EXPECT_GT(last_requests, 100000);  // the comparison is about real traffic
  // Requests without bids happened (the budget ran out), so requests and bids differ.
  int64_t all_requests = 0, all_bids = 0;
  for (size_t i = 0; i < bucket.size(); ++i) {
    all_requests += opportunities[i];
    all_bids += bids[i];
  }
  EXPECT_GT(all_requests, all_bids);
}

}  // namespace
}  // namespace adsim
