// The recorder: the schema of every table written while the run goes
// (aggregates, market, funnel, actions, conversions, alerts, daily, pacing_target, model_fits, and the optional
// opportunity-level events), and one Record* hook per kind of row. It only
// listens: nothing in the run reads back what it wrote. It keeps its own copy
// of the counters at the last bucket boundary, to write per-bucket rows.
//
// Owns: those tables' columns and their descriptions; the event log's cap.
// May not touch: the run state (it reads it), campaigns, budgets, components.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/engine/run_state.h"
#include "core/guardrails.h"
#include "core/pacing_target.h"
#include "core/results.h"
#include "core/strategy.h"
#include "core/user_observations.h"

namespace adsim::engine {

// What became of one action (action_applier.cc decides, the recorder writes).
struct ActionOutcome {
  double old_value = 0, requested = 0, new_value = 0;
  ActionStatus status = ActionStatus::kApplied;
  bool approved = false;  // applied (or clamped) after a reviewer approved it
  std::string note;
};

class Recorder {
 public:
  // Adds the running tables to `results`, in their documented order.
  Recorder(const RunState& state, Results* results);

  // One row of the opportunity log (`recording.events`): a no-op unless the
  // scenario asked for it; stops at `recording.max_events`. `winner` is -1
  // when none of our campaigns won a slot. `quality`: the platform quality
  // that ranked the winner's bid on a click-billed channel, 0 otherwise.
  void RecordOpportunity(const Opportunity& opportunity, int bidders, int winner, int creative, int slot, Micros price,
                         bool click, double quality) {
    if (!events_.time || events_truncated_) return;
    if (events_recorded_ >= max_events_) {
      events_truncated_ = true;
      return;
    }
    RecordOpportunityRow(opportunity, bidders, winner, creative, slot, price, click, quality);
  }
  void RecordConversion(const PendingConversion& conversion, SimTime arrival, bool reported);
  void RecordAlert(const Alert& alert);
  void RecordAction(SimTime now, const std::string& controller, const Action& action, const ActionOutcome& outcome);
  // One pacing_target row: what a controller reported after its OnCycle, with
  // the campaign's spend as the controller saw it in the snapshot.
  void RecordPacingTarget(SimTime now, const std::string& controller, const PacingTarget& target,
                          const CampaignState& campaign);
  // The model_fits rows of one fit a bidder reported after its per-user
  // observations (core/user_observations.h): one row per coefficient. The
  // table exists only when a bidder learns from users (LearnsFromUsers).
  void RecordModelFit(SimTime now, int campaign, const std::string& source, const ModelFit& fit);
  // The aggregates and market rows of the bucket that ends now.
  void FlushBucket(SimTime bucket_start);
  // One daily row per campaign for the day that started at `day_start`.
  void CloseDay(SimTime day_start);

  bool events_truncated() const { return events_truncated_; }

 private:
  void RecordOpportunityRow(const Opportunity& opportunity, int bidders, int winner, int creative, int slot,
                            Micros price, bool click, double quality);

  const RunState& state_;
  std::vector<CellCounters> bucket_base_;  // per cell, at the current bucket's start
  std::vector<int64_t> market_base_;       // per channel-segment, at the current bucket's start
  int64_t events_recorded_ = 0;
  int64_t max_events_ = 0;
  bool events_truncated_ = false;
  struct {
    std::vector<int64_t>*bucket, *campaign, *channel, *segment, *creative, *opportunities, *bids, *wins, *impressions,
        *clicks, *conversions;
    std::vector<double>*value, *spend;
  } aggregates_{};
  struct {
    std::vector<int64_t>*bucket, *channel, *segment, *opportunities;
  } market_{};
  struct {  // funnel only (docs/funnel.md)
    std::vector<int64_t>*bucket, *campaign, *channel, *segment, *creative, *impressions, *clicks, *visits, *carts,
        *purchases;
  } funnel_{};
  struct {
    std::vector<int64_t>*time, *campaign, *segment, *creative;
    std::vector<std::string>*controller, *kind, *status, *note, *reason, *metric;
    std::vector<double>*old_value, *requested, *new_value, *observed, *threshold;
  } actions_{};
  struct {
    std::vector<int64_t>*click_time, *time, *campaign, *channel, *segment, *creative, *user, *reported;
    std::vector<double>* value;
  } conversions_{};
  struct {
    std::vector<int64_t>*time, *campaign, *channel, *segment, *creative;
    std::vector<std::string>*monitor, *metric, *severity, *message;
    std::vector<double>*value, *expected, *score;
  } alerts_{};
  struct {
    std::vector<int64_t>*day_start, *campaign;
    std::vector<int64_t>* budget_exhausted;
    std::vector<double>*daily_budget, *max_daily_budget, *total_budget, *spend, *spend_total;
  } daily_{};
  struct {
    std::vector<int64_t>*time, *campaign;
    std::vector<std::string>*controller, *scope;
    std::vector<double>*target_spend, *spend, *budget, *target_share;
  } pacing_{};
  struct {  // only when a bidder learns from users
    std::vector<int64_t>*time, *campaign, *users;
    std::vector<std::string>*source, *term;
    std::vector<double>*coefficient, *standard_error, *trials, *successes;
  } model_fits_{};
  struct {
    std::vector<int64_t>*time, *channel, *segment, *user, *winner, *creative, *slot, *click, *bidders;
    std::vector<double>*top_competing, *price, *propensity, *quality;
  } events_{};
};

}  // namespace adsim::engine
