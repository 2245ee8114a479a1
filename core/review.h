// Human oversight in the loop: what happens to an action held for review.
// A held action becomes a pending review; after the campaign's review latency
// (guardrails.review.latency) a reviewer decides it: the scenario's rule
// (approve_all, approve_below, reject_all) or a callback given to the run
// (RunOptions::reviewer, e.g. a Python function). See docs/engine.md.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/scenario.h"
#include "core/strategy.h"
#include "core/types.h"

namespace adsim {

// What the reviewer sees when it decides a held action.
struct ReviewRequest {
  SimTime time = 0;       // now: the decision time
  SimTime held_time = 0;  // when the action was held
  int campaign = 0;
  std::string campaign_name;
  ActionKind kind = ActionKind::kSetBid;
  int segment = -1;
  int creative = -1;
  double old_value = 0.0;  // the setting's value when the action was held
  double requested = 0.0;  // what the controller asked for
  double current = 0.0;    // the setting's value now
  std::string controller;  // who proposed it
  std::string reason;      // the controller's explanation
  std::string hold_note;   // why it was held
};

struct ReviewDecision {
  bool approve = false;
  std::optional<double> value;  // approve at this value instead of the requested one (numeric kinds)
  std::string note;             // the reviewer's note, kept in the results
};

// Decides `request` by the scenario's rule. approve_below approves a numeric
// change whose relative size |requested - old| / old is at most
// spec.max_change and rejects the others, including changes of a setting
// with no relative scale (0 or an unset budget); pausing or resuming a
// campaign has no size and is approved.
ReviewDecision ApplyReviewRule(const ReviewSpec& spec, const ReviewRequest& request);

const char* ReviewRuleName(ReviewRule rule);

// Whether an action of this kind carries a value the reviewer may replace.
bool ReviewValueIsNumeric(ActionKind kind);

}  // namespace adsim
