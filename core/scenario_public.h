// What the advertiser configured, the part of the scenario a strategy may see:
// component choices and their parameters, campaigns (budgets, goals, bids,
// creatives, guardrails), experiments, and the auction and billing rules of a
// channel. No type here holds a true rate, a conversion value or delay, a
// competitor's bid or a shock: those are in core/scenario.h, which
// core/strategy.h and core/registry.h do not include, so strategies/ cannot
// name them (DESIGN.md, principle 1). May include only core/types.h.
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "core/types.h"

namespace adsim {

// A typed parameter value for a registered component.
struct ParamValue {
  enum class Kind { kNumber, kBool, kString } kind = Kind::kNumber;
  double number = 0.0;
  bool boolean = false;
  std::string text;
};
using ParamMap = std::map<std::string, ParamValue>;

enum class AuctionType { kSecondPrice, kFirstPrice, kGsp };
enum class Billing { kImpression, kClick };

struct ComponentSpec {  // a registered component chosen by name
  std::string type;
  ParamMap params;
  std::string label;                       // optional instance name (monitors: names their alerts and scores)
  int priority = 0;                        // controllers: higher runs first and wins a setting within a cycle
  std::string where;                       // field path, for error messages from the component
  int line = 0;                            // line of the component's type (0 = unknown, e.g. the default)
  std::map<std::string, int> param_lines;  // line of each given parameter
};

// The simulated person who decides actions held for review (see
// core/review.h). Without one (rule kNone) a held action stays held for the
// rest of the run.
enum class ReviewRule { kNone, kApproveAll, kApproveBelow, kRejectAll };

struct ReviewSpec {
  ReviewRule rule = ReviewRule::kNone;
  SimTime latency = 0;      // from the hold to the decision
  double max_change = 0.5;  // approve_below: largest relative change (from the value when held) approved
};

struct GuardrailSpec {
  double min_bid = 0.0;
  double max_bid = 100.0;
  double max_change = 0.5;        // largest relative change of a bid or budget per control cycle
  double review_threshold = 1.0;  // a requested relative change above this is held for review
  // Budget ceilings (docs/engine.md, "Budgets"): by default no action can
  // raise a campaign's daily or total budget above what the scenario set.
  // max_daily_budget / max_total_budget, when set (finite), replace that
  // ceiling; otherwise the ceiling is max_budget_raise x the scenario's budget.
  double max_daily_budget = INFINITY;  // infinity = not set
  double max_total_budget = INFINITY;  // infinity = not set
  double max_budget_raise = 1.0;       // ceiling, as a factor of the scenario's budget
  double review_budget_raise = 2.0;    // a request above this factor of the scenario's budget is held for review
  bool hold_pauses = false;            // hold campaign pauses for review instead of applying them
  // Brand safety: segments and channels (placements) never bought, whatever
  // any strategy bids or asks (indices into the scenario's lists). A
  // campaign's list adds to the scenario-wide one.
  std::vector<int> blocked_segments;
  std::vector<int> blocked_channels;
  ReviewSpec review;  // who decides held actions, and when
};

enum class GoalKind { kNone, kCpa, kRoas };

struct CreativeSpec {
  std::string name;
};

// An audience built from users' public features (docs/audiences.md): the users
// whose score intercept + coefficients . features is at least `threshold`. A
// lookalike fit (adsim.lookalike) gives the coefficients on the logit scale of
// the conversion probability after a click, so the same model also serves as a
// predicted conversion rate (the predictive_cpa bidder).
struct AudienceSpec {
  std::string name;
  double intercept = 0.0;
  std::vector<double> coefficients;  // one per user feature (users.features.count); empty for a lookalike
  double threshold = 0.0;
  // `lookalike: {seed: converters, fit_at, top_share, l2}`: an audience the
  // engine fits inside the run at the first control cycle at or after
  // `fit_at`, from the converters reported by then (the model of
  // adsim.lookalike), keeping the top `top_share` of users by the fitted
  // score; it has no members, and campaigns' modifiers for it do not apply,
  // before that. intercept, coefficients and threshold are then unused.
  bool lookalike = false;
  SimTime fit_at = 0;
  double top_share = 0.1;
  double l2 = 1.0;
};

// A campaign's bid modifier for the users of one audience (index into the
// scenario's audiences).
struct AudienceModifier {
  int audience = 0;
  double modifier = 1.0;
};

struct CampaignSpec {
  std::string name;
  std::vector<int> channels;  // indices into Scenario::channels
  std::vector<int> segments;  // indices into Scenario::segments
  std::vector<CreativeSpec> creatives;
  double bid = 1.0;                // base bid, currency per impression (per click on click-billed channels)
  double daily_budget = INFINITY;  // infinity = no daily budget (the field is absent)
  double total_budget = INFINITY;  // infinity = no total budget
  GoalKind goal = GoalKind::kNone;
  double goal_value = 0.0;  // target CPA (currency) or target ROAS (ratio)
  ComponentSpec bidder{"fixed", {}, ""};
  std::vector<ComponentSpec> controllers;
  GuardrailSpec guardrails;
  // `audiences: {NAME: modifier, ..., others: modifier}`: the bid is
  // multiplied by the modifier of every listed audience the user is in, or by
  // `others` (default 1) when the user is in none of them. Empty: no effect.
  std::vector<AudienceModifier> audience_modifiers;
  double others_modifier = 1.0;
};

// An A/B (or A/B/n) experiment: its arms are campaigns defined as usual
// (each with its own bid, creatives, bidder and controllers), and each
// opportunity or user is assigned to exactly one arm, so the arms never bid
// against each other. The first arm is the control.
struct ExperimentSpec {
  std::string name;
  std::vector<int> arms;        // campaign indices, control first
  std::vector<double> weights;  // per arm, > 0 (traffic share = weight / sum of active arms' weights)
  bool split_by_user = true;    // user: a user always sees the same arm; opportunity: each request drawn afresh
  // Before `start` (the pre-period) every unit sees the control arm; analyses
  // run from `start` on and may use the pre-period as a covariate (CUPED).
  SimTime start = 0;
  std::vector<ComponentSpec> analyses;  // experiment analyses (registered controllers of experiment kind)
  int line = 0;
};

}  // namespace adsim
