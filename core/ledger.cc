// The ledger's invariant error (core/ledger.h), out of line so the charge
// stays small enough to inline on the hot path.
#include "core/ledger.h"

#include "core/scenario.h"

namespace adsim {

void Ledger::ThrowOverspend(Micros amount, SimTime now) const {
  std::string message = "ledger";
  if (!owner_.empty()) message += " of " + owner_;
  if (now >= 0) message += " at simulated time " + FormatDuration(now);
  throw InvariantError(message + ": a charge of " + std::to_string(amount) + " micros exceeds the remaining " +
                       std::to_string(Remaining()) + " micros");
}

}  // namespace adsim
