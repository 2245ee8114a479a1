#include "core/guardrails.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace adsim {

const char* ActionStatusName(ActionStatus s) {
  switch (s) {
    case ActionStatus::kApplied:
      return "applied";
    case ActionStatus::kClamped:
      return "clamped";
    case ActionStatus::kHeld:
      return "held";
    case ActionStatus::kRejected:
      return "rejected";
  }
  return "?";
}

GuardrailDecision ApplyGuardrails(const GuardrailSpec& g, ActionKind kind, double cycle_start, double old_value,
                                  double requested) {
  GuardrailDecision d;
  d.value = old_value;
  if (!std::isfinite(requested) || requested < 0) {
    d.status = ActionStatus::kRejected;
    d.note = "value must be finite and non-negative";
    return d;
  }
  // A setting at zero, or a budget that was not set (infinite), has no
  // relative scale: only the absolute bounds apply. A segment modifier at 0
  // (an excluded segment) is measured from 1, the neutral modifier, so that
  // re-including a segment is bounded like any other step.
  const bool modifier_from_zero = kind == ActionKind::kSetSegmentModifier && cycle_start == 0.0;
  if (modifier_from_zero) {
    if (requested > 1.0 + g.review_threshold + 1e-12) {
      d.status = ActionStatus::kHeld;
      std::ostringstream os;
      os << "raise from 0 to " << requested << " above 1 + review_threshold " << g.review_threshold;
      d.note = os.str();
      return d;
    }
    d.value = std::min(requested, 1.0 + g.max_change);
    if (d.value != requested) {
      d.status = ActionStatus::kClamped;
      d.note = "clamped by max_change (from 0, relative to 1)";
    }
    return d;
  }
  const bool relative_limits = cycle_start > 0 && std::isfinite(cycle_start);
  if (relative_limits) {
    const double rel = std::fabs(requested - cycle_start) / cycle_start;
    if (rel > g.review_threshold + 1e-12) {
      d.status = ActionStatus::kHeld;
      std::ostringstream os;
      os << "relative change " << rel << " above review_threshold " << g.review_threshold;
      d.note = os.str();
      return d;
    }
  }
  double v = requested;
  std::string why;
  // Excluding a segment (modifier 0) is a discrete decision, not a step:
  // the per-cycle change limit does not apply to it (the review hold does).
  const bool exclusion = kind == ActionKind::kSetSegmentModifier && requested == 0.0;
  if (relative_limits && !exclusion) {
    const double lo = cycle_start * (1 - g.max_change), hi = cycle_start * (1 + g.max_change);
    if (v < lo) {
      v = lo;
      why = "max_change";
    }
    if (v > hi) {
      v = hi;
      why = "max_change";
    }
  }
  if (kind == ActionKind::kSetBid) {
    if (v < g.min_bid) {
      v = g.min_bid;
      why = "min_bid";
    }
    if (v > g.max_bid) {
      v = g.max_bid;
      why = "max_bid";
    }
  } else if (kind == ActionKind::kSetDailyBudget) {
    if (v > g.max_daily_budget) {
      v = g.max_daily_budget;
      why = "max_daily_budget";
    }
  }
  d.value = v;
  if (v != requested) {
    d.status = ActionStatus::kClamped;
    d.note = "clamped by " + why;
  }
  return d;
}

double BudgetCeiling(const CampaignSpec& c, bool daily) {
  const double set = daily ? c.guardrails.max_daily_budget : c.guardrails.max_total_budget;
  if (std::isfinite(set)) return set;
  const double budget = daily ? c.daily_budget : c.total_budget;
  return std::isfinite(budget) ? budget * c.guardrails.max_budget_raise : INFINITY;
}

double BudgetReviewLevel(const CampaignSpec& c, bool daily) {
  const double budget = daily ? c.daily_budget : c.total_budget;
  return std::isfinite(budget) ? budget * c.guardrails.review_budget_raise : INFINITY;
}

GuardrailDecision ApplyBudgetCeiling(const CampaignSpec& c, bool daily, double requested, GuardrailDecision d,
                                     bool approved) {
  if (d.status != ActionStatus::kApplied && d.status != ActionStatus::kClamped) return d;
  const double review = BudgetReviewLevel(c, daily);
  if (!approved && requested > review) {
    GuardrailDecision held;
    held.status = ActionStatus::kHeld;
    std::ostringstream os;
    os << "requested " << requested << " above review_budget_raise " << c.guardrails.review_budget_raise
       << " x the scenario's " << (daily ? "daily" : "total") << " budget";
    held.note = os.str();
    return held;
  }
  const double ceiling = BudgetCeiling(c, daily);
  if (d.value > ceiling) {
    d.value = ceiling;
    d.status = ActionStatus::kClamped;
    d.note = std::string("clamped by ") +
             (std::isfinite(daily ? c.guardrails.max_daily_budget : c.guardrails.max_total_budget)
                  ? (daily ? "max_daily_budget" : "max_total_budget")
                  : "max_budget_raise (the scenario's budget)");
  }
  return d;
}

}  // namespace adsim
