// A campaign's expected traffic through the day: its channels' hour-of-day
// profiles weighted by their volumes. This is public knowledge (an advertiser
// knows it from history), so pacing controllers, bidders and monitors may all
// use it; it ignores day-of-week effects, segment shares and shocks.
// FlightTrafficCurve below adds the day-of-week profile, over the whole run.
#pragma once

#include <algorithm>
#include <array>
#include <vector>

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

// The share of a campaign's expected traffic over the whole flight (the run,
// from t = 0 to duration) that falls before time t, from its channels'
// per_hour, hour-of-day and day-of-week profiles (public knowledge), with
// traffic spread evenly within each clock hour. With `even` (or without any
// expected traffic) it is the elapsed share of the run's time, t / duration.
// Built once (O(duration in hours)); Share() is O(1) and does not allocate.
class FlightTrafficCurve {
 public:
  FlightTrafficCurve(const PublicScenario& sc, int campaign, bool even) : duration_(std::max<SimTime>(1, sc.duration)) {
    if (even) return;
    // Pieces end at clock-hour boundaries: the first one is shorter when the
    // run starts mid-hour, the last one when it ends mid-hour.
    first_end_ = kMicrosPerHour - ((sc.start_offset_in_day % kMicrosPerHour) + kMicrosPerHour) % kMicrosPerHour;
    double acc = 0;
    for (SimTime begin = 0; begin < duration_;) {
      const SimTime end = std::min(duration_, begin == 0 ? first_end_ : begin + kMicrosPerHour);
      const SimTime abs = begin + sc.start_offset_in_day;
      const int hour = static_cast<int>((abs / kMicrosPerHour) % 24);
      const int weekday = static_cast<int>((sc.start_weekday + abs / kMicrosPerDay) % 7);
      double rate = 0;  // expected opportunities per microsecond
      for (int ch : sc.campaigns[campaign].channels) {
        const auto& c = sc.channels[ch];
        rate += c.per_hour * c.hour_of_day[hour] * c.day_of_week[weekday] / kMicrosPerHour;
      }
      cum_.push_back(acc);
      rate_.push_back(rate);
      acc += rate * static_cast<double>(end - begin);
      begin = end;
    }
    total_ = acc;
    if (!(total_ > 0)) {
      cum_.clear();
      rate_.clear();
    }
  }

  // Expected share of the flight's traffic before t, in [0, 1].
  double Share(SimTime t) const {
    if (t <= 0) return 0.0;
    if (t >= duration_) return 1.0;
    if (cum_.empty()) return static_cast<double>(t) / static_cast<double>(duration_);
    const size_t k = t < first_end_ ? 0 : 1 + static_cast<size_t>((t - first_end_) / kMicrosPerHour);
    const SimTime begin = k == 0 ? 0 : first_end_ + static_cast<SimTime>(k - 1) * kMicrosPerHour;
    return std::min(1.0, (cum_[k] + rate_[k] * static_cast<double>(t - begin)) / total_);
  }

 private:
  SimTime duration_;
  SimTime first_end_ = kMicrosPerHour;
  double total_ = 0;
  std::vector<double> cum_, rate_;  // per piece: traffic before it, and its rate
};

}  // namespace adsim
