// The opportunity loop: merges the market's time-ordered opportunities with
// the heap of sparse events, runs each opportunity (bid requests, bids, the
// auction, charges, the user response, counters) and dispatches the sparse
// events (day starts, shocks, conversion arrivals, review decisions, control
// cycles) to their owners. The hot path: run_loop.cc is one translation unit,
// and what it calls per opportunity is inline (auction.h, the experiments'
// ServesArm, the recorder's event log) except a bidder's Bid and, on a win,
// the user response.
//
// Owns: the order of everything in a run; per-opportunity scratch arrays.
// May not touch: campaign settings (action_applier.cc), components other than
// bidders, the registry, end-of-run tables.
#pragma once

#include <vector>

#include "core/engine/action_applier.h"
#include "core/engine/auction.h"
#include "core/engine/auction_insights.h"
#include "core/engine/control_cycle.h"
#include "core/engine/experiment_runtime.h"
#include "core/engine/journeys.h"
#include "core/engine/recorder.h"
#include "core/engine/run_state.h"
#include "core/engine/shocks.h"
#include "core/engine/user_response.h"
#include "core/interrupt.h"

namespace adsim::engine {

class RunLoop {
 public:
  RunLoop(RunState& state, Recorder& recorder, AuctionInsights& insights, Experiments& experiments, Shocks& shocks,
          ControlCycle& cycle, ActionApplier& applier, UserResponse& response, Journeys* journeys = nullptr);
  // Runs from t = 0 to the scenario's duration; writes the last bucket and day.
  void Run();

 private:
  // One of our bids on the current opportunity (per campaign).
  struct OurBid {
    int cell;
    double bid;  // currency, capped
    Micros bid_micros;
    double quality;  // click-rate estimate on click-billed channels, else 1
    int creative;
    bool budget_cut;  // the remaining budget cut the bid (auction insights: a loss is a budget loss)
  };

  void ProcessOpportunitiesBeforeHorizon(InterruptPoller& interrupt);
  void ProcessOpportunity(const Opportunity& opportunity);
  double OracleBid(int campaign, int cell, int channel_segment, const Opportunity& opportunity, bool click_billing);
  void ScheduleConversion(const Opportunity& opportunity, const Win& win, const Response& response);
  void FinishConversion(const PendingConversion& conversion, SimTime arrival, bool reported);
  void HandleEvent(const Event& event);
  void StartDay(SimTime now);
  void ArriveConversion(const Event& event);
  // Books a conversion arriving at `now`: reported or not, counted, recorded.
  void BookConversion(const PendingConversion& conversion, SimTime now);

  RunState& state_;
  Recorder& recorder_;
  AuctionInsights& insights_;
  Experiments& experiments_;
  Shocks& shocks_;
  ControlCycle& cycle_;
  ActionApplier& applier_;
  UserResponse& response_;
  Journeys* journeys_;  // null unless the scenario has `journeys:`
  std::vector<Candidate> ours_, auction_work_;
  std::vector<OurBid> our_bid_;  // indexed by campaign
  // Requests and bids per cell counted since the last fold: the eligibility
  // scan increments these 16-byte pairs (four cells per cache line) instead
  // of the 88-byte CellCounters of state_.total, whose line it otherwise
  // missed per eligible campaign. FoldRequestCounts adds them into
  // state_.total at every horizon, before anything reads the counters
  // (bucket flush, day start, control cycle, end of run).
  struct RequestCounts {
    int64_t requests = 0, bids = 0;
  };
  std::vector<RequestCounts> request_counts_;  // indexed by cell
  void FoldRequestCounts();
  // What the eligibility scan reads of a campaign, in one cache line per
  // campaign instead of scattered over its CampaignRuntime (several KiB: its
  // creative stream's state alone is 2.5 KiB) and its CampaignSpec.
  // Everything here but the remaining budget changes only when an event is
  // handled (an action pauses a campaign, reweights its creatives, sets a
  // segment modifier or a budget; an experiment starts; a day starts), so
  // RefreshHotCampaigns rebuilds it before each run of opportunities, at
  // every horizon; a charge updates the remaining budget.
  struct alignas(64) HotCampaign {
    CampaignRuntime* runtime;
    const int* active_creatives;     // runtime->active_creatives.data()
    const double* segment_modifier;  // runtime->state.segment_modifier.data()
    double max_bid;                  // the campaign's guardrails.max_bid
    Micros campaign_left;            // runtime->ledger.Remaining(), also updated at each charge
    int cell_offset, num_creatives;
    int active;  // how many creatives a request may show; 0 when paused
    int first_creative;
    bool weighted, is_arm, oracle;
  };
  static_assert(sizeof(HotCampaign) == 64, "HotCampaign is one cache line");
  std::vector<HotCampaign> hot_;  // indexed by campaign
  void RefreshHotCampaigns();
  SlotWin wins_[kMaxSlots];
  // Opportunities drawn from the market and not yet processed: batch_[batch_next_, batch_size_).
  std::vector<Opportunity> batch_;
  size_t batch_next_ = 0, batch_size_ = 0;
  // The market has no opportunity left before this time (its last Generate came back short).
  SimTime market_drained_until_ = 0;
  // The hour of day of the bid requests, valid for opportunities in
  // [hour_start_, hour_end_): recomputed once per simulated hour instead of a
  // 64-bit division and modulo per opportunity (HourOfDay).
  SimTime hour_start_ = 0, hour_end_ = 0;
  int hour_of_day_ = 0;
  int HourOfDay(SimTime time);
};

}  // namespace adsim::engine
