// The budget ledger. The rule (docs/engine.md, "Budgets"): before each bid the
// engine caps the bid at the campaign's remaining budget,
//   remaining = min(daily_budget - spend_today, total_budget - spend_total),
// (a budget that is not set is kNone and does not enter the minimum; a budget
// of 0 is a real budget of zero: nothing can be spent),
// in integer micros, and every auction charges at most the capped bid (second
// price, GSP and click billing charge at most the bid; first price charges the
// bid). A click-billed charge happens at the impression itself, so nothing is
// ever owed later. Charge() re-checks and throws InvariantError if a charge
// would break the rule, so an engine bug cannot overspend silently either; the
// error names the ledger's owner (a campaign, or the account) and the
// simulated time of the charge.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/types.h"

namespace adsim {

class Ledger {
 public:
  // kNone means "no such budget"; 0 means a budget of zero.
  void SetDailyBudget(Micros b) { daily_budget_ = b; }
  void SetTotalBudget(Micros b) { total_budget_ = b; }
  Micros daily_budget() const { return daily_budget_; }
  Micros total_budget() const { return total_budget_; }
  Micros spend_today() const { return spend_today_; }
  Micros spend_total() const { return spend_total_; }

  Micros Remaining() const {
    Micros r = kUnlimited;
    if (daily_budget_ != kNone) r = std::min(r, daily_budget_ - spend_today_);
    if (total_budget_ != kNone) r = std::min(r, total_budget_ - spend_total_);
    return r > 0 ? r : 0;
  }

  // Who the ledger belongs to, for error messages: "campaign 'summer'
  // (index 0)", "the account".
  void SetOwner(std::string owner) { owner_ = std::move(owner); }
  const std::string& owner() const { return owner_; }

  // `now`: the simulated time of the charge, for the error message (-1: unknown).
  void Charge(Micros amount, SimTime now = -1) {
    if (amount < 0 || amount > Remaining()) ThrowOverspend(amount, now);
    spend_today_ += amount;
    spend_total_ += amount;
  }

  void StartDay() { spend_today_ = 0; }

  static constexpr Micros kUnlimited = static_cast<Micros>(1) << 60;
  static constexpr Micros kNone = -1;

  // Currency units to ledger micros, rounded to the nearest micro (8.2 is
  // 8'200'000 exactly): infinity (no budget) becomes kNone; budgets above
  // kMaxBudgetUnits (which validation rejects in scenarios) hold as that.
  static Micros FromUnits(double units) { return std::isinf(units) ? kNone : UnitsToMicrosNearest(units); }
  static double ToUnits(Micros m) { return m == kNone ? INFINITY : MicrosToUnits(m); }

 private:
  [[noreturn]] void ThrowOverspend(Micros amount, SimTime now) const;

  Micros daily_budget_ = kNone;
  Micros total_budget_ = kNone;
  Micros spend_today_ = 0;
  Micros spend_total_ = 0;
  std::string owner_;
};

}  // namespace adsim
