// Action application: every action a controller or an analysis proposes
// passes here. Claims and priorities (within a cycle, a lower-priority
// controller cannot change a setting a higher one changed), review holds and
// the human review of held actions (core/review.h), the guardrails
// (core/guardrails.h), budget changes that keep what is spent, creative
// rotation changes. It keeps its own state (claims, pending reviews) and hands
// each outcome to the recorder, never reading the recorded rows back.
//
// Owns: campaign settings (bid, budgets, pauses, modifiers, creative weights
// and the rotation built from them); claims; the review queue.
// May not touch: counters, the market, components, results tables other than
// through Recorder::RecordAction.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "core/engine/recorder.h"
#include "core/engine/run_state.h"
#include "core/guardrails.h"
#include "core/review.h"

namespace adsim::engine {

// (campaign, setting, index): one setting an action changes. `setting` is 3
// for a campaign's pause state, 4 for a creative's, else 10 + the action
// kind; `index` is the segment (modifiers) or the creative.
using SettingKey = std::tuple<int, int, int>;

// An action held for review, from the hold to the decision (core/review.h).
struct PendingReview {
  Action action;
  std::string controller;
  int priority = 0;
  SettingKey setting;
  SimTime held_time = 0, due = 0;
  double old_value = 0, requested = 0;
  std::string hold_note;
  // pending, approved, rejected, withdrawn (a newer change of the setting was
  // applied), replaced (a newer request for the setting was held: it takes
  // this one's place in the queue).
  std::string decision = "pending";
  SimTime decided = -1;
  double new_value = NAN;
  std::string note;
};

class ActionApplier {
 public:
  ActionApplier(RunState& state, Recorder& recorder) : state_(state), recorder_(recorder) {}

  // A new control cycle: no setting is claimed yet.
  void StartCycle() { claims_.clear(); }
  // Applies (or clamps, holds, rejects) one action and records it.
  void Apply(SimTime now, const std::string& controller, int priority, const Action& action);
  // A kReview event: decides the review `index` if it is still pending.
  void DecideReview(SimTime now, int64_t index);
  // Whether held actions of the campaign can be decided (a reviewer callback
  // or the campaign's review rule).
  bool ReviewEnabled(int campaign) const;
  // Every action that went to review, in hold order.
  const std::vector<PendingReview>& reviews() const { return reviews_; }

 private:
  // Decides what becomes of the action and changes the setting; sets
  // `*tracked` when the claims and the review queue must follow the outcome.
  ActionOutcome Decide(const std::string& controller, int priority, const Action& action, const SettingKey& key,
                       bool* tracked);
  void TrackReview(SimTime now, const std::string& controller, int priority, const Action& action,
                   const SettingKey& setting, const ActionOutcome& outcome);
  double SettingValue(const Action& action) const;
  void RebuildCreatives(int campaign);

  RunState& state_;
  Recorder& recorder_;
  std::map<SettingKey, int> claims_;  // settings changed this cycle -> priority
  // Human review: every action that went to review, in hold order; the
  // pending one of each setting; whether an approved action is being applied,
  // and the guardrails it passes then.
  std::vector<PendingReview> reviews_;
  std::map<SettingKey, int64_t> pending_review_;
  bool reviewing_ = false;
  GuardrailSpec reviewed_guardrails_;
};

}  // namespace adsim::engine
