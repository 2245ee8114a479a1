// Action application (action_applier.h): claims and priorities, review holds
// and decisions, guardrails, budget and rotation changes.
// May not touch: counters, the market, components; results only through the recorder.
#include "core/engine/action_applier.h"

#include <algorithm>
#include <cmath>

namespace adsim::engine {

namespace {

// Budget moves take away only what is unspent (docs/engine.md, "Budgets"): a
// daily (total) budget set below today's (the run's) spend becomes that spend,
// recorded as clamped. Returns the new budget in ledger micros.
Micros KeepSpent(const Ledger& ledger, bool daily, GuardrailDecision* decision) {
  const Micros spent = daily ? ledger.spend_today() : ledger.spend_total();
  const Micros micros = Ledger::FromUnits(decision->value);
  if (micros == Ledger::kNone || micros >= spent) return micros;
  decision->value = MicrosToUnits(spent);
  decision->status = ActionStatus::kClamped;
  decision->note = daily ? "clamped by spend_today" : "clamped by spend_total";
  return spent;
}

ActionOutcome Outcome(double old_value, double requested, double new_value, ActionStatus status, std::string note) {
  ActionOutcome outcome;
  outcome.old_value = old_value;
  outcome.requested = requested;
  outcome.new_value = new_value;
  outcome.status = status;
  outcome.note = std::move(note);
  return outcome;
}

bool Changed(const ActionOutcome& outcome) {
  return outcome.status == ActionStatus::kApplied || outcome.status == ActionStatus::kClamped;
}

}  // namespace

bool ActionApplier::ReviewEnabled(int campaign) const {
  return static_cast<bool>(state_.options.reviewer) ||
         state_.scenario.campaigns[campaign].guardrails.review.rule != ReviewRule::kNone;
}

void ActionApplier::Apply(SimTime now, const std::string& controller, int priority, const Action& action) {
  // Priorities: within a cycle, once a controller has changed a setting, a
  // lower-priority controller cannot change it again.
  const int setting = action.kind == ActionKind::kPauseCampaign || action.kind == ActionKind::kResumeCampaign ? 3
                      : action.kind == ActionKind::kPauseCreative || action.kind == ActionKind::kResumeCreative
                          ? 4
                          : static_cast<int>(action.kind) + 10;
  const int index = action.kind == ActionKind::kSetSegmentModifier ? action.segment : action.creative;
  const SettingKey key = std::make_tuple(action.campaign, setting, index);
  bool tracked = false;
  const ActionOutcome outcome = Decide(controller, priority, action, key, &tracked);
  if (tracked) {
    if (Changed(outcome)) claims_[key] = std::max(claims_.count(key) ? claims_[key] : priority, priority);
    TrackReview(now, controller, priority, action, key, outcome);
  }
  recorder_.RecordAction(now, controller, action, outcome);
}

ActionOutcome ActionApplier::Decide(const std::string& controller, int priority, const Action& action,
                                    const SettingKey& key, bool* tracked) {
  const Scenario& scenario = state_.scenario;
  if (action.campaign < 0 || action.campaign >= state_.num_campaigns)
    return Outcome(0, action.value, 0, ActionStatus::kRejected,
                   "no campaign with index " + std::to_string(action.campaign));
  if (auto it = claims_.find(key); !reviewing_ && it != claims_.end() && it->second > priority)
    return Outcome(0, action.value, 0, ActionStatus::kRejected,
                   "superseded by a priority " + std::to_string(it->second) + " action this cycle");
  CampaignRuntime& runtime = state_.campaigns[action.campaign];
  CampaignState& settings = runtime.state;
  if (action.campaign == state_.oracle_campaign && controller != "oracle_pacing")
    return Outcome(0, action.value, 0, ActionStatus::kRejected, "the oracle keeps the scenario's settings");
  *tracked = true;
  if (action.review) {
    const double current = action.kind == ActionKind::kSetBid           ? settings.bid
                           : action.kind == ActionKind::kSetDailyBudget ? settings.daily_budget
                           : action.kind == ActionKind::kSetTotalBudget ? settings.total_budget
                           : action.kind == ActionKind::kPauseCampaign || action.kind == ActionKind::kResumeCampaign
                               ? (settings.paused ? 1.0 : 0.0)
                               : NAN;
    const double requested = action.kind == ActionKind::kPauseCampaign    ? 1.0
                             : action.kind == ActionKind::kResumeCampaign ? 0.0
                                                                          : action.value;
    return Outcome(current, requested, current, ActionStatus::kHeld, "held for review: the controller asked for it");
  }
  const GuardrailSpec& guardrails = reviewing_ ? reviewed_guardrails_ : scenario.campaigns[action.campaign].guardrails;
  switch (action.kind) {
    case ActionKind::kSetBid: {
      const GuardrailDecision d =
          ApplyGuardrails(guardrails, action.kind, runtime.cycle_bid, settings.bid, action.value);
      const double old = settings.bid;
      if (d.status == ActionStatus::kApplied || d.status == ActionStatus::kClamped) settings.bid = d.value;
      return Outcome(old, action.value, settings.bid, d.status, d.note);
    }
    case ActionKind::kSetDailyBudget:
    case ActionKind::kSetTotalBudget: {
      const bool daily = action.kind == ActionKind::kSetDailyBudget;
      double& current = daily ? settings.daily_budget : settings.total_budget;
      const double old = current;
      GuardrailDecision d =
          ApplyBudgetCeiling(scenario.campaigns[action.campaign], daily, action.value,
                             ApplyGuardrails(guardrails, action.kind, daily ? runtime.cycle_daily : runtime.cycle_total,
                                             old, action.value),
                             reviewing_);
      if (d.status == ActionStatus::kApplied || d.status == ActionStatus::kClamped) {
        const Micros micros = KeepSpent(runtime.ledger, daily, &d);
        current = d.value;
        if (daily) {
          runtime.ledger.SetDailyBudget(micros);
          if (runtime.max_daily_budget_today != Ledger::kNone)
            runtime.max_daily_budget_today = std::max(runtime.max_daily_budget_today, micros);
        } else {
          runtime.ledger.SetTotalBudget(micros);
        }
      }
      return Outcome(old, action.value, current, d.status, d.note);
    }
    case ActionKind::kPauseCampaign:
    case ActionKind::kResumeCampaign: {
      const bool pause = action.kind == ActionKind::kPauseCampaign;
      const double old = settings.paused ? 1 : 0;
      if (pause && guardrails.hold_pauses) return Outcome(old, 1, old, ActionStatus::kHeld, "hold_pauses is set");
      settings.paused = pause;
      return Outcome(old, pause ? 1 : 0, pause ? 1 : 0, ActionStatus::kApplied, "");
    }
    case ActionKind::kPauseCreative:
    case ActionKind::kResumeCreative: {
      const bool pause = action.kind == ActionKind::kPauseCreative;
      if (action.creative < 0 || action.creative >= state_.num_creatives[action.campaign])
        return Outcome(0, action.creative, 0, ActionStatus::kRejected,
                       "no creative with index " + std::to_string(action.creative));
      const double old = settings.creative_paused[action.creative] ? 1 : 0;
      settings.creative_paused[action.creative] = pause;
      RebuildCreatives(action.campaign);
      return Outcome(old, pause ? 1 : 0, pause ? 1 : 0, ActionStatus::kApplied, "");
    }
    case ActionKind::kSetCreativeWeight: {
      // A rotation weight is neither a bid nor a budget: no change limit
      // applies; only values that have no meaning as a weight are rejected.
      if (action.creative < 0 || action.creative >= state_.num_creatives[action.campaign])
        return Outcome(0, action.value, 0, ActionStatus::kRejected,
                       "no creative with index " + std::to_string(action.creative));
      double& current = settings.creative_weight[action.creative];
      const double old = current;
      if (!std::isfinite(action.value) || action.value < 0)
        return Outcome(old, action.value, old, ActionStatus::kRejected,
                       "a creative weight must be a finite number >= 0");
      current = action.value;
      RebuildCreatives(action.campaign);
      return Outcome(old, action.value, current, ActionStatus::kApplied, "");
    }
    case ActionKind::kSetSegmentModifier: {
      if (action.segment < 0 || action.segment >= state_.num_segments)
        return Outcome(0, action.value, 0, ActionStatus::kRejected,
                       "no segment with index " + std::to_string(action.segment));
      double& current = settings.segment_modifier[action.segment];
      const double old = current;
      if (std::count(guardrails.blocked_segments.begin(), guardrails.blocked_segments.end(), action.segment))
        return Outcome(old, action.value, old, ActionStatus::kRejected, "segment blocked by brand safety");
      const GuardrailDecision d =
          ApplyGuardrails(guardrails, action.kind, runtime.cycle_modifier[action.segment], old, action.value);
      if (d.status == ActionStatus::kApplied || d.status == ActionStatus::kClamped) current = d.value;
      return Outcome(old, action.value, current, d.status, d.note);
    }
  }
  return Outcome(0, action.value, 0, ActionStatus::kRejected, "unknown action kind");
}

void ActionApplier::RebuildCreatives(int campaign) {
  CampaignRuntime& runtime = state_.campaigns[campaign];
  const CampaignState& settings = runtime.state;
  const int creatives = state_.num_creatives[campaign];
  runtime.active_creatives.clear();
  runtime.creative_cumulative.clear();
  for (int creative = 0; creative < creatives; ++creative)
    if (!settings.creative_paused[creative] && settings.creative_weight[creative] > 0)
      runtime.active_creatives.push_back(creative);
  if (runtime.active_creatives.empty()) {  // every unpaused weight is 0: rotate evenly among them
    for (int creative = 0; creative < creatives; ++creative)
      if (!settings.creative_paused[creative]) runtime.active_creatives.push_back(creative);
    runtime.weighted = false;
    return;
  }
  double sum = 0;
  runtime.weighted = false;
  for (int creative : runtime.active_creatives) {
    sum += settings.creative_weight[creative];
    runtime.creative_cumulative.push_back(sum);
    runtime.weighted |= settings.creative_weight[creative] != settings.creative_weight[runtime.active_creatives[0]];
  }
}

// ---- Human review of held actions (core/review.h, docs/engine.md).

double ActionApplier::SettingValue(const Action& action) const {
  const CampaignState& settings = state_.campaigns[action.campaign].state;
  const bool creative_ok = action.creative >= 0 && action.creative < state_.num_creatives[action.campaign];
  switch (action.kind) {
    case ActionKind::kSetBid:
      return settings.bid;
    case ActionKind::kSetDailyBudget:
      return settings.daily_budget;
    case ActionKind::kSetTotalBudget:
      return settings.total_budget;
    case ActionKind::kPauseCampaign:
    case ActionKind::kResumeCampaign:
      return settings.paused ? 1.0 : 0.0;
    case ActionKind::kPauseCreative:
    case ActionKind::kResumeCreative:
      return creative_ok ? (settings.creative_paused[action.creative] ? 1.0 : 0.0) : NAN;
    case ActionKind::kSetCreativeWeight:
      return creative_ok ? settings.creative_weight[action.creative] : NAN;
    case ActionKind::kSetSegmentModifier:
      return action.segment >= 0 && action.segment < state_.num_segments ? settings.segment_modifier[action.segment]
                                                                         : NAN;
  }
  return NAN;
}

// Called after every tracked action with its outcome. One review is pending
// per setting: a newer change of the setting that is applied withdraws it (the
// request is stale); a newer request that is held replaces it and keeps its
// place in the queue (the reviewer decides the latest request, when the first
// was due), so a controller repeating its request does not postpone the decision.
void ActionApplier::TrackReview(SimTime now, const std::string& controller, int priority, const Action& action,
                                const SettingKey& setting, const ActionOutcome& outcome) {
  if (reviewing_) return;
  const bool held = outcome.status == ActionStatus::kHeld;
  if (!held && !Changed(outcome)) return;
  SimTime inherited_due = -1;
  if (auto it = pending_review_.find(setting); it != pending_review_.end()) {
    PendingReview& old = reviews_[it->second];
    old.decided = now;
    old.decision = held ? "replaced" : "withdrawn";
    old.note = (held ? "replaced by a newer request of " : "withdrawn: the setting was changed by ") + controller +
               " at " + FormatDuration(now);
    if (held) inherited_due = old.due;
    pending_review_.erase(it);
  }
  if (!held || !ReviewEnabled(action.campaign)) return;
  PendingReview review;
  review.action = action;
  review.controller = controller;
  review.priority = priority;
  review.setting = setting;
  review.held_time = now;
  review.due =
      inherited_due >= 0 ? inherited_due : now + state_.scenario.campaigns[action.campaign].guardrails.review.latency;
  review.old_value = outcome.old_value;
  if (std::isnan(review.old_value)) review.old_value = SettingValue(action);
  review.requested = outcome.requested;
  review.hold_note = outcome.note;
  const int64_t index = static_cast<int64_t>(reviews_.size());
  reviews_.push_back(std::move(review));
  pending_review_[setting] = index;
  // A decision due at or after the end is never made: the review stays pending.
  if (reviews_.back().due < state_.scenario.duration) state_.Push(reviews_.back().due, EventKind::kReview, index);
}

void ActionApplier::DecideReview(SimTime now, int64_t index) {
  if (reviews_[index].decision != "pending") return;  // withdrawn or replaced meanwhile
  pending_review_.erase(reviews_[index].setting);
  const PendingReview review = reviews_[index];
  const CampaignSpec& campaign = state_.scenario.campaigns[review.action.campaign];
  ReviewRequest request;
  request.time = now;
  request.held_time = review.held_time;
  request.campaign = review.action.campaign;
  request.campaign_name = campaign.name;
  request.kind = review.action.kind;
  request.segment = review.action.segment;
  request.creative = review.action.creative;
  request.old_value = review.old_value;
  request.requested = review.requested;
  request.current = SettingValue(review.action);
  request.controller = review.controller;
  request.reason = review.action.reason;
  request.hold_note = review.hold_note;
  const ReviewDecision decision =
      state_.options.reviewer ? state_.options.reviewer(request) : ApplyReviewRule(campaign.guardrails.review, request);
  const std::string held = " (held at " + FormatDuration(review.held_time) + ")";
  ActionOutcome outcome;
  Action action = review.action;
  if (decision.approve) {
    action.review = false;
    if (decision.value && ReviewValueIsNumeric(action.kind)) action.value = *decision.value;
    // A person signed off on the size of the move: the review threshold, the
    // per-cycle change limit and hold_pauses no longer apply; the absolute
    // bounds, brand safety and the budget state of now still do.
    reviewed_guardrails_ = campaign.guardrails;
    reviewed_guardrails_.review_threshold = INFINITY;
    reviewed_guardrails_.max_change = INFINITY;
    reviewed_guardrails_.hold_pauses = false;
    reviewing_ = true;
    bool tracked = false;
    outcome = Decide(review.controller, review.priority, action, review.setting, &tracked);
    if (tracked && Changed(outcome))
      claims_[review.setting] =
          std::max(claims_.count(review.setting) ? claims_[review.setting] : review.priority, review.priority);
    reviewing_ = false;
    if (Changed(outcome)) {
      outcome.note = "approved by the reviewer" + held + ": " + decision.note +
                     (outcome.status == ActionStatus::kClamped ? "; " + outcome.note : "");
      outcome.approved = true;
    } else {
      outcome.note = "approved by the reviewer" + held + " but " + ActionStatusName(outcome.status) +
                     " by the guardrails: " + outcome.note;
    }
  } else {
    outcome = Outcome(request.current, review.requested, request.current, ActionStatus::kRejected,
                      "rejected by the reviewer" + held + ": " + decision.note);
  }
  recorder_.RecordAction(now, review.controller, action, outcome);
  PendingReview& out = reviews_[index];
  out.decided = now;
  out.note = decision.note;
  out.decision = outcome.approved ? "approved" : "rejected";
  out.new_value = outcome.new_value;
}

}  // namespace adsim::engine
