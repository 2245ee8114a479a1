// Domain-wide scalar types: simulated time and money.
#pragma once

#include <cmath>
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

// The largest budget (daily, total, or a guardrail's ceiling on one) a
// scenario may set, in currency units: 1e12 units are 1e18 micros, below the
// ledger's "unlimited" (2^60 micros) and far from int64's 9.2e18, so every
// budget and every spend under it is held exactly.
constexpr double kMaxBudgetUnits = 1e12;
constexpr Micros kMaxBudgetMicros = 1'000'000'000'000'000'000;

// Rounds a non-negative amount in currency units to the nearest micro, so a
// budget written as 8.2 (the double 8.1999999999999993) is 8'200'000 micros,
// not 8'199'999. Saturates at kMaxBudgetMicros; NaN and negatives are 0.
inline Micros UnitsToMicrosNearest(double units) {
  if (!(units > 0.0)) return 0;
  if (units >= kMaxBudgetUnits) return kMaxBudgetMicros;
  // Whole units and the fraction apart: units x 1e6 as one double would lose
  // micros above 2^53 of them (9e9 units).
  const double whole = std::floor(units);
  return static_cast<Micros>(whole) * kMicrosPerUnit +
         static_cast<Micros>(std::round((units - whole) * static_cast<double>(kMicrosPerUnit)));
}

// Rounds a non-negative amount in currency units down to whole micros (bids:
// a bid never rounds up).
inline Micros UnitsToMicrosFloor(double units) {
  if (!(units > 0.0)) return 0;
  if (units >= 9.0e12) return std::numeric_limits<Micros>::max() / 2;
  return static_cast<Micros>(units * static_cast<double>(kMicrosPerUnit));
}

}  // namespace adsim
