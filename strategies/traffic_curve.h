// A campaign's expected traffic through the day: its channels' hour-of-day
// profiles weighted by their volumes. This is public knowledge (an advertiser
// knows it from history), so pacing controllers, bidders and monitors may all
// use it; it ignores day-of-week effects, segment shares and shocks.
#pragma once

#include <algorithm>
#include <array>

#include "core/strategy.h"

namespace adsim {

inline std::array<double, 24> CampaignHourlyTraffic(const PublicScenario& sc, int campaign) {
  std::array<double, 24> w{};
  for (int ch : sc.campaigns[campaign].channels)
    for (int h = 0; h < 24; ++h) w[h] += sc.channels[ch].per_hour * sc.channels[ch].hour_of_day[h];
  return w;
}

// Share of the campaign's expected daily traffic before hour of day `hours`
// (in [0, 24]); the elapsed share of the day when `even` or without traffic.
inline double ElapsedTrafficShare(const PublicScenario& sc, int campaign, double hours, bool even = false) {
  const double time_share = std::clamp(hours / 24.0, 0.0, 1.0);
  if (even) return time_share;
  const std::array<double, 24> w = CampaignHourlyTraffic(sc, campaign);
  double total = 0, before = 0;
  for (int h = 0; h < 24; ++h) {
    total += w[h];
    before += w[h] * std::clamp(hours - h, 0.0, 1.0);
  }
  return total > 0 ? before / total : time_share;
}

// Hour of the day (with fractions) of simulated time t.
inline double HourOfDay(const PublicScenario& sc, SimTime t) {
  const SimTime abs = t + sc.start_offset_in_day;
  return static_cast<double>(((abs % kMicrosPerDay) + kMicrosPerDay) % kMicrosPerDay) / kMicrosPerHour;
}

// Share of today's budget that pacing aims to have spent by now: the curve's
// share of the day so far, renormalised over what is left of the first day
// when the run starts mid-day.
inline double TargetSpendFraction(const Snapshot& snap, const PublicScenario& sc, int campaign, bool even) {
  const double f0 = snap.day_start == 0 ? ElapsedTrafficShare(sc, campaign, HourOfDay(sc, 0), even) : 0.0;
  const double f = ElapsedTrafficShare(sc, campaign, HourOfDay(sc, snap.time), even);
  return std::clamp((f - f0) / std::max(1e-9, 1.0 - f0), 0.0, 1.0);
}

}  // namespace adsim
