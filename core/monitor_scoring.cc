#include "core/monitor_scoring.h"

#include <algorithm>
#include <cmath>

namespace adsim {
namespace {

bool Compatible(const Alert& a, const ShockSpec& s, SimTime grace) {
  if (a.time < s.start || a.time >= s.end + grace) return false;
  auto covers = [](const std::vector<int>& list, int x) {
    return x < 0 || list.empty() || std::find(list.begin(), list.end(), x) != list.end();
  };
  return covers(s.channels, a.channel) && covers(s.segments, a.segment);
}

// Quantile by linear interpolation between order statistics (type 7).
double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

std::vector<MonitorScore> ScoreMonitors(const std::vector<std::string>& monitors, const std::vector<Alert>& alerts,
                                        const std::vector<ShockSpec>& shocks, SimTime duration, SimTime grace) {
  // Shock-free time: the duration minus the union of the shock windows.
  std::vector<std::pair<SimTime, SimTime>> windows;
  windows.reserve(shocks.size());
  for (const auto& s : shocks) windows.push_back({std::max<SimTime>(0, s.start), std::min(duration, s.end + grace)});
  std::sort(windows.begin(), windows.end());
  SimTime covered = 0, cur_start = 0, cur_end = -1;
  for (const auto& [a, b] : windows) {
    if (b <= a) continue;
    if (a > cur_end) {
      if (cur_end > cur_start) covered += cur_end - cur_start;
      cur_start = a;
      cur_end = b;
    } else {
      cur_end = std::max(cur_end, b);
    }
  }
  if (cur_end > cur_start) covered += cur_end - cur_start;
  const double free_days = static_cast<double>(duration - covered) / static_cast<double>(kMicrosPerDay);

  std::vector<MonitorScore> out;
  for (const auto& name : monitors) {
    MonitorScore m;
    m.monitor = name;
    m.shocks = static_cast<int64_t>(shocks.size());
    m.shock_free_days = free_days;
    std::vector<SimTime> first(shocks.size(), kNever);
    int64_t false_alarms = 0;
    for (const auto& a : alerts) {
      if (a.monitor != name) continue;
      ++m.alerts;
      bool explained = false;
      for (size_t i = 0; i < shocks.size(); ++i) {
        if (!Compatible(a, shocks[i], grace)) continue;
        explained = true;
        first[i] = std::min(first[i], a.time);
      }
      if (explained) {
        ++m.true_alerts;
      } else {
        // Outside every window (any scope) it is a false alarm in shock-free
        // time; inside another shock's window it is only imprecise.
        bool in_any_window = false;
        for (const auto& s : shocks) in_any_window |= a.time >= s.start && a.time < s.end + grace;
        false_alarms += in_any_window ? 0 : 1;
      }
    }
    std::vector<double> delays;
    for (size_t i = 0; i < shocks.size(); ++i) {
      if (first[i] == kNever) continue;
      ++m.detected;
      delays.push_back(static_cast<double>(first[i] - shocks[i].start) / kMicrosPerMinute);
    }
    m.recall = m.shocks ? static_cast<double>(m.detected) / static_cast<double>(m.shocks) : NAN;
    m.precision = m.alerts ? static_cast<double>(m.true_alerts) / static_cast<double>(m.alerts) : NAN;
    m.delay_median_min = Quantile(delays, 0.5);
    m.delay_p90_min = Quantile(delays, 0.9);
    m.false_alarms_per_day = free_days > 0 ? static_cast<double>(false_alarms) / free_days : NAN;
    out.push_back(m);
  }
  return out;
}

}  // namespace adsim
