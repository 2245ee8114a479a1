// Guardrails: applied by the engine to every action, whoever proposed it
// (DESIGN.md, principle 5).
#pragma once

#include <string>

#include "core/scenario.h"
#include "core/strategy.h"

namespace adsim {

enum class ActionStatus { kApplied, kClamped, kHeld, kRejected };
const char* ActionStatusName(ActionStatus s);

struct GuardrailDecision {
  ActionStatus status = ActionStatus::kApplied;
  double value = 0.0;  // the value applied (unchanged old value when held or rejected)
  std::string note;
};

// Decides what happens to a numeric action that asks to move a setting from
// `old_value` to `requested`, given the value the setting had at the start of
// this control cycle (`cycle_start`), so that several actions in one cycle
// cannot add up to more than the per-cycle limit. Rules, in order:
//  1. a non-finite or negative request is rejected;
//  2. a relative change from cycle_start above review_threshold is held for
//     review (recorded, not applied);
//  3. the change is clamped to +-max_change relative to cycle_start;
//  4. bids are clamped to [min_bid, max_bid], daily budgets to max_daily_budget.
// A clamped action is applied at the clamped value and recorded as clamped.
// Setting a segment modifier to 0 (excluding the segment) skips rule 3: it is
// a discrete decision, still held for review under rule 2 when the review
// threshold is below 1.
GuardrailDecision ApplyGuardrails(const GuardrailSpec& g, ActionKind kind, double cycle_start, double old_value,
                                  double requested);

}  // namespace adsim
