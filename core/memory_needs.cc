#include "core/memory_needs.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "core/strategy.h"

namespace adsim {
namespace {

std::string Bytes(double b) {
  char buf[32];
  if (b >= 1e9)
    std::snprintf(buf, sizeof buf, "%.1f GB", b / 1e9);
  else
    std::snprintf(buf, sizeof buf, "%.0f MB", std::max(1.0, b / 1e6));
  return buf;
}

}  // namespace

std::string DescribeMemoryNeeds(const Scenario& sc) {
  std::vector<std::pair<double, std::string>> items;
  // simulators/synthetic.cc: one float per user of a segment with a propensity spread.
  double users_with_propensity = 0;
  for (const auto& s : sc.segments)
    if (s.propensity_sigma > 0) users_with_propensity += static_cast<double>(s.users);
  if (users_with_propensity > 0)
    items.push_back({4 * users_with_propensity, "user propensities (" +
                                                    std::to_string(static_cast<int64_t>(users_with_propensity)) +
                                                    " users with propensity_sigma > 0, 4 bytes each)"});
  // core/engine/experiment_runtime.h: experiments split by user may keep counters per user of
  // the control's segments: one UserCounts per arm plus the pre-period, and a
  // reserved exposure list entry per arm (4 bytes).
  for (const auto& ex : sc.experiments) {
    if (!ex.split_by_user || ex.arms.empty()) continue;
    double users = 0;
    for (int s : sc.campaigns[static_cast<size_t>(ex.arms[0])].segments)
      users += static_cast<double>(sc.segments[static_cast<size_t>(s)].users);
    const double per_user = static_cast<double>(sizeof(UserCounts)) * static_cast<double>(ex.arms.size() + 1) +
                            4.0 * static_cast<double>(ex.arms.size());
    items.push_back({users * per_user, "per-user counters of experiment '" + ex.name + "' (" +
                                           std::to_string(static_cast<int64_t>(users)) + " users x " +
                                           std::to_string(ex.arms.size()) + " arms, when an analysis is by user)"});
  }
  // core/engine/journeys.h: per user, a ring of N 8-byte touchpoints and 32 bytes of bookkeeping (resident
  // only from the user's first touch: this counts every user touched, the most it can take).
  if (sc.journeys) {
    double users = 0;
    for (const auto& s : sc.segments) users += static_cast<double>(s.users);
    items.push_back({users * (8.0 * sc.journeys->touchpoints + 32.0),
                     "journey touchpoints (" + std::to_string(static_cast<int64_t>(users)) + " users x (8 x " +
                         std::to_string(sc.journeys->touchpoints) + " + 32) bytes)"});
    // With journeys.holdout, each user's conversions (4 bytes) and value (8 bytes) for the holdout counts.
    bool holdout = false;
    for (const double share : sc.journeys->holdout) holdout |= share > 0;
    if (holdout)
      items.push_back({users * 12.0, "journey holdout counters (" + std::to_string(static_cast<int64_t>(users)) +
                                         " users x 12 bytes)"});
  }
  // core/engine/recorder.h: the event log has 12 eight-byte columns per opportunity.
  if (sc.recording.events)
    items.push_back(
        {96.0 * static_cast<double>(sc.recording.max_events),
         "the event log (recording.max_events " + std::to_string(sc.recording.max_events) + " x 96 bytes)"});
  if (items.empty()) return "";
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string out;
  for (const auto& [bytes, what] : items) {
    if (!out.empty()) out += ", ";
    out += "about " + Bytes(bytes) + " for " + what;
  }
  return out;
}

std::string OutOfMemoryMessage(const std::string& doing, const Scenario* scenario) {
  std::string message = "out of memory while " + doing;
  const std::string needs = scenario ? DescribeMemoryNeeds(*scenario) : "";
  if (!needs.empty()) message += " (the scenario needs " + needs + ")";
  return message;
}

}  // namespace adsim
