#include "core/review.h"

#include <cmath>
#include <sstream>

namespace adsim {

const char* ReviewRuleName(ReviewRule rule) {
  switch (rule) {
    case ReviewRule::kNone:
      return "none";
    case ReviewRule::kApproveAll:
      return "approve_all";
    case ReviewRule::kApproveBelow:
      return "approve_below";
    case ReviewRule::kRejectAll:
      return "reject_all";
  }
  return "?";
}

bool ReviewValueIsNumeric(ActionKind kind) {
  return kind == ActionKind::kSetBid || kind == ActionKind::kSetDailyBudget || kind == ActionKind::kSetTotalBudget ||
         kind == ActionKind::kSetSegmentModifier || kind == ActionKind::kSetCreativeWeight;
}

ReviewDecision ApplyReviewRule(const ReviewSpec& spec, const ReviewRequest& request) {
  ReviewDecision d;
  switch (spec.rule) {
    case ReviewRule::kNone:  // not reached: without a rule nothing is queued
    case ReviewRule::kRejectAll:
      d.note = "rule reject_all";
      return d;
    case ReviewRule::kApproveAll:
      d.approve = true;
      d.note = "rule approve_all";
      return d;
    case ReviewRule::kApproveBelow:
      break;
  }
  if (!ReviewValueIsNumeric(request.kind)) {
    d.approve = true;
    d.note = "rule approve_below: a pause or resume has no size";
    return d;
  }
  std::ostringstream os;
  os << "rule approve_below (max_change " << spec.max_change << "): ";
  const double old = request.old_value;
  if (!(old > 0) || !std::isfinite(old) || !std::isfinite(request.requested)) {
    os << "no relative size from " << old << " to " << request.requested;
    d.note = os.str();
    return d;
  }
  const double size = std::fabs(request.requested - old) / old;
  d.approve = size <= spec.max_change + 1e-12;
  os << "relative change " << size << (d.approve ? " within the limit" : " above the limit");
  d.note = os.str();
  return d;
}

}  // namespace adsim
