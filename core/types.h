// Domain-wide scalar types: simulated time and money.
#pragma once

#include <cstdint>
#include <limits>

namespace adsim {

// Simulated time: integer microseconds since the scenario start. Never a double,
// so that event order is exact and runs reproduce bit for bit.
using SimTime = int64_t;

constexpr SimTime kMicrosPerSecond = 1'000'000;
constexpr SimTime kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr SimTime kMicrosPerHour = 60 * kMicrosPerMinute;
constexpr SimTime kMicrosPerDay = 24 * kMicrosPerHour;
constexpr SimTime kMicrosPerWeek = 7 * kMicrosPerDay;
constexpr SimTime kNever = std::numeric_limits<SimTime>::max();

// Money in the ledger: integer micro-units of the account currency
// (1 USD = 1'000'000 micros). Integer arithmetic makes the budget invariant
// (spend never exceeds budget) exact rather than "up to rounding".
using Micros = int64_t;
constexpr Micros kMicrosPerUnit = 1'000'000;

inline double MicrosToUnits(Micros m) { return static_cast<double>(m) / kMicrosPerUnit; }

// Rounds a non-negative amount in currency units down to whole micros.
inline Micros UnitsToMicrosFloor(double units) {
  if (!(units > 0.0)) return 0;
  if (units >= 9.0e12) return std::numeric_limits<Micros>::max() / 2;
  return static_cast<Micros>(units * static_cast<double>(kMicrosPerUnit));
}

}  // namespace adsim
