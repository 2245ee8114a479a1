// Guardrails: applied by the engine to every action, whoever proposed it
// (DESIGN.md, principle 5).
#pragma once

#include <string>

#include "core/scenario_public.h"
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
// threshold is below 1. From a modifier of 0 the limits of rules 2 and 3 are
// taken relative to 1, the neutral modifier (a segment's bid without one):
// a request above 1 + review_threshold is held, and values above
// 1 + max_change are clamped to it; any value from 0 up to that is allowed.
GuardrailDecision ApplyGuardrails(const GuardrailSpec& g, ActionKind kind, double cycle_start, double old_value,
                                  double requested);

// Budget ceilings: a budget the person set is the ceiling unless the
// scenario's guardrails say otherwise (DESIGN.md, principle 5). The highest
// daily (or total) budget an action may set on campaign `c`: the guardrails'
// max_daily_budget (max_total_budget) when set, else max_budget_raise x the
// campaign's budget in the scenario; +infinity when neither is set.
double BudgetCeiling(const CampaignSpec& c, bool daily);
// A request above review_budget_raise x the campaign's budget in the scenario
// is held for review (+infinity when the scenario sets no such budget).
double BudgetReviewLevel(const CampaignSpec& c, bool daily);
// Applies the two rules above to the decision ApplyGuardrails made for a
// set_daily_budget (daily) or set_total_budget action: an action that was
// applied or clamped is held when `requested` is above the review level, and
// otherwise clamped to the ceiling. Held and rejected decisions pass through.
// `approved`: a reviewer already approved this action, so it is not held again
// (the ceiling still applies).
GuardrailDecision ApplyBudgetCeiling(const CampaignSpec& c, bool daily, double requested, GuardrailDecision d,
                                     bool approved = false);

}  // namespace adsim
