// The run state: the data every part of the kernel shares during one run,
// allocated once by setup.cc (nothing here grows per opportunity, except the
// pool of pending conversions, reused through a free list). It holds the
// cell layout and its index math, the campaigns' runtime (ledger, bidder,
// creative rotation), the truth per cell, fatigue, the counters, the event
// heap, the market and the shock multipliers.
//
// Owns: data and index math only; no rule of the run lives here.
// May not touch: results tables (recorder.h), components other than bidders,
// the registry.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/platform_quality.h"
#include "core/engine/user_features.h"
#include "core/event_queue.h"
#include "core/journey_observations.h"
#include "core/ledger.h"
#include "core/market.h"
#include "core/random.h"
#include "core/run_options.h"
#include "core/scenario.h"
#include "core/strategy.h"

namespace adsim::engine {

// Counters the engine keeps per cell (campaign x channel x segment x creative).
struct CellCounters {
  int64_t requests = 0, bids = 0, wins = 0, clicks = 0, conversions = 0;
  Micros spend = 0;
  double value = 0.0;
  double value_sq = 0.0;  // sum of squared conversion values (variance of value metrics)
  // Funnel (docs/funnel.md), counted at the click: visits and carts (observed
  // by site analytics), purchases (truth: the conversions, reported or not).
  int64_t visits = 0, carts = 0, purchases = 0;
};

inline CellCounters Minus(const CellCounters& later, const CellCounters& earlier) {
  return {later.requests - earlier.requests,
          later.bids - earlier.bids,
          later.wins - earlier.wins,
          later.clicks - earlier.clicks,
          later.conversions - earlier.conversions,
          later.spend - earlier.spend,
          later.value - earlier.value,
          later.value_sq - earlier.value_sq,
          later.visits - earlier.visits,
          later.carts - earlier.carts,
          later.purchases - earlier.purchases};
}

inline ObservedStats ToObserved(const CellCounters& counters) {
  ObservedStats observed;
  observed.requests = counters.requests;
  observed.bids = counters.bids;
  observed.impressions = counters.wins;
  observed.clicks = counters.clicks;
  observed.conversions = counters.conversions;
  observed.conversion_value = counters.value;
  observed.conversion_value_sq = counters.value_sq;
  observed.visits = counters.visits;
  observed.carts = counters.carts;
  observed.spend = MicrosToUnits(counters.spend);
  return observed;
}

// A conversion made by a user, waiting for its arrival time.
struct PendingConversion {
  SimTime click_time;
  int campaign, channel, segment, creative;
  int64_t user;
  double value;
  double tracking_draw;  // uniform; reported when below the tracking fraction at arrival
};

struct CampaignRuntime {
  CampaignState state;
  Ledger ledger;
  std::unique_ptr<Bidder> bidder;
  // Creatives a bid request may show: the unpaused ones with a positive
  // rotation weight (all unpaused ones if every such weight is 0). When their
  // weights differ, `creative_cumulative` holds the cumulative weights, and a
  // request draws one by inversion; otherwise the draw is uniform. Rebuilt
  // only when an action pauses, resumes or reweights a creative.
  std::vector<int> active_creatives;
  std::vector<double> creative_cumulative;
  bool weighted = false;
  Stream creative_stream;
  // Values at the start of the control cycle, for per-cycle change limits.
  double cycle_bid = 0, cycle_daily = 0, cycle_total = 0;
  std::vector<double> cycle_modifier;
  Micros max_daily_budget_today = Ledger::kNone;
  // First time today the campaign's own budget (its ledger's remaining daily
  // or total amount) could not pay the bid it wanted: -1 while it could.
  SimTime budget_exhausted_today = -1;
};

// Creative fatigue of one (campaign, segment, creative), truth kept by the
// engine: `multiplier` = 2^(-exposures / half_life) is the factor on the true
// click rate. Without recovery each impression multiplies it by `step` =
// 2^(-1 / half_life); with recovery the exposures decay lazily, when next read.
struct FatigueState {
  double multiplier = 1.0;
  double exposures = 0.0;
  SimTime last = 0;
  double step = 1.0;
  double inverse_half_life = 0.0;
  double inverse_recovery = 0.0;  // 1 / recovery time constant in us; 0 = no recovery

  double Factor(SimTime now) {
    if (inverse_recovery > 0 && now > last) {
      if (exposures > 0) {
        exposures *= std::exp(-static_cast<double>(now - last) * inverse_recovery);
        multiplier = std::exp2(-exposures * inverse_half_life);
      }
      last = now;
    }
    return multiplier;
  }
  void Expose() {
    exposures += 1.0;
    multiplier *= step;
  }
};

struct RunState {
  RunState(const Scenario& scenario_in, const RunOptions& options_in, uint64_t seed_in)
      : scenario(scenario_in), options(options_in), seed(seed_in) {}

  const Scenario& scenario;
  const RunOptions& options;
  const uint64_t seed;
  int oracle_campaign = -1;  // RunOptions::oracle_campaign
  // What component factories see (no truth); components may keep a pointer
  // to it, so it lives as long as the run.
  PublicScenario public_scenario;
  // What a run with journeys lets the advertiser observe (core/journey_observations.h):
  // set by RunOnce once the journeys exist, before the first control cycle;
  // null without journeys. Components reach it through BuildContext::journeys.
  const JourneyObservations* journeys = nullptr;

  // Layout. A channel-segment index is channel * num_segments + segment; a
  // cell is cell_offset[campaign] + channel_segment * num_creatives[campaign]
  // + creative.
  int num_channels = 0, num_segments = 0, num_campaigns = 0, num_cells = 0;
  std::vector<int> cell_offset, num_creatives;
  // Campaigns eligible per channel-segment, in campaign order (brand safety
  // applied): eligible[eligible_offset[k] .. eligible_offset[k + 1]).
  std::vector<int> eligible_offset, eligible;

  std::vector<CampaignRuntime> campaigns;
  // The account-level cap on all campaigns together (scenario field
  // `account_budget`); without one its remaining is unlimited, so it never
  // binds and results are those of a run without it.
  Ledger account;

  // Truth per cell, before shocks and propensity.
  std::vector<double> true_ctr, true_cvr;
  // Funnel only (docs/funnel.md): per cell x stage (visit, cart, purchase), the
  // true stage rate before shocks; true_cvr is their product.
  std::vector<double> funnel_rate;
  // Fatigue: per cell, an index into `fatigue` (-1 = none); empty when no
  // segment or creative of the scenario fatigues.
  std::vector<int> fatigue_index;
  std::vector<FatigueState> fatigue;
  std::vector<FatigueSpec> cell_fatigue;  // per cell, for the truth table

  // Counters since the start, per cell; the snapshot of them at the last
  // control cycle and at the current day's start.
  std::vector<CellCounters> total, cycle_base, day_base;
  std::vector<int64_t> market_total;  // opportunities per channel-segment
  // Users' public features, audiences and per-user observations (`users:`; user_features.h).
  UserFeatures users;
  // Every conversion made, reported or not, per campaign (truth).
  std::vector<double> truth_conversions, truth_value;

  std::unique_ptr<Market> market;
  // Shock effects per channel-segment (written by shocks.cc only).
  MarketConditions conditions;
  std::vector<double> ctr_multiplier, cvr_multiplier, tracking;
  std::vector<double> funnel_multiplier;  // funnel only: per channel-segment x stage
  PlatformQuality platform_quality;       // the click-rate shock as the platform has learnt it
  // Journeys with a funnel only: per segment x stage, the stage multipliers of the shocks on
  // every channel (a direct visit, with no touch in its windows, has no channel).
  std::vector<double> funnel_direct_multiplier;

  std::vector<PendingConversion> pending;
  std::vector<int64_t> free_pending;
  EventQueue events;
  SimTime day_start = 0;
  // The main loop's horizon: opportunities before it are processed, then the
  // sparse events at it are handled (run_loop.cc).
  SimTime horizon = 0;
  int64_t opportunities = 0;

  int ChannelSegment(int channel, int segment) const { return channel * num_segments + segment; }
  int Cell(int campaign, int channel_segment, int creative) const {
    return cell_offset[campaign] + channel_segment * num_creatives[campaign] + creative;
  }
  bool HasFatigue(int cell) const { return !fatigue_index.empty() && fatigue_index[cell] >= 0; }

  // An event pushed before the horizon (a conversion scheduled while the
  // opportunities are processed) becomes the new horizon: it must be handled
  // before any later opportunity and before the bucket it falls in is written.
  void Push(SimTime time, EventKind kind, int64_t payload) {
    events.Push(time, kind, payload);
    if (time < horizon) horizon = time;
  }
};

}  // namespace adsim::engine
