// Auction insights: what an ad platform reports to an advertiser about its
// auctions, per campaign x channel x day (the `auction_insights` table,
// docs/results.md): impression share, impression share lost to budget and to
// rank, top-of-page and absolute-top rates on slotted channels, overlap rate,
// position-above rate and outranking share against the channel's competitors
// (one group per channel: the market draws the competitors' top bids as order
// statistics, without identities), and the average position.
//
// The run loop feeds it through a few inline counter increments (no
// allocation, no branch on the common path); eligible opportunities and
// impressions are read from the cell counters when a day closes.
//
// Owns: the per campaign x channel insight counters of the current day, the
// auction_insights table's columns and their descriptions.
// May not touch: the run state (it reads it), budgets, components.
#pragma once

#include <cstdint>
#include <vector>

#include "core/engine/run_state.h"
#include "core/results.h"

namespace adsim::engine {

// The counters of one campaign on one channel since the day's start, beyond
// the cell counters (requests = eligible, wins = impressions).
struct InsightCounters {
  int64_t lost_budget = 0;       // eligible opportunities not won because of a budget (see CountBudgetLimited)
  int64_t top = 0;               // impressions in a top-of-page slot (slotted channels)
  int64_t absolute_top = 0;      // impressions in the first slot (slotted channels only)
  int64_t position_sum = 0;      // sum of the 1-based slot of every impression
  int64_t overlap = 0;           // impressions in auctions where a competitor's ad was also shown
  int64_t competitor_above = 0;  // impressions with a competitor's ad shown in a higher slot
};

// Per channel: the number of slots on the top of the page. adsim has no
// organic results, so it splits a slotted (GSP, slots > 1) channel's slots
// in two: the upper half, rounded up, is the top of the page; 0 (no top-of-
// page rates) on channels with one slot.
inline int TopOfPageSlots(const ChannelSpec& channel) {
  return channel.auction == AuctionType::kGsp && channel.slots > 1 ? (channel.slots + 1) / 2 : 0;
}

class AuctionInsights {
 public:
  // Adds the auction_insights table to `results`.
  AuctionInsights(const RunState& state, Results* results);

  // An eligible opportunity the campaign did not win because a budget (the
  // campaign's or the account's) left nothing to bid, or cut its bid below
  // what it asked and the cut bid did not win.
  void CountBudgetLimited(int campaign, int channel) { ++counters_[Index(campaign, channel)].lost_budget; }

  // One impression of the campaign in slot `slot` (0-based) of an auction in
  // which `competitors_shown` competitors' ads were shown, `competitors_above`
  // of them in higher slots.
  void CountImpression(int campaign, int channel, int slot, int competitors_shown, int competitors_above) {
    InsightCounters& counters = counters_[Index(campaign, channel)];
    counters.top += slot < top_slots_[channel] ? 1 : 0;
    counters.absolute_top += slot == 0 && top_slots_[channel] > 0 ? 1 : 0;
    counters.position_sum += slot + 1;
    counters.overlap += competitors_shown > 0 ? 1 : 0;
    counters.competitor_above += competitors_above > 0 ? 1 : 0;
  }

  // Writes one row per campaign x targeted channel for the day that started
  // at `day_start` and resets the counters (called where the daily table's
  // rows are written, before the day's cell-counter base moves).
  void CloseDay(SimTime day_start);

 private:
  int Index(int campaign, int channel) const { return campaign * num_channels_ + channel; }

  const RunState& state_;
  int num_channels_ = 0;
  std::vector<int> top_slots_;             // per channel
  std::vector<InsightCounters> counters_;  // per campaign x channel, since the day's start
  std::vector<char> targets_;              // per campaign x channel: 1 if the campaign may bid there
  struct {
    std::vector<int64_t>*day_start, *campaign, *channel, *competitors, *eligible, *impressions, *lost_budget,
        *lost_rank, *top, *absolute_top, *overlap, *competitor_above;
    std::vector<double>*impression_share, *lost_budget_share, *lost_rank_share, *top_rate, *absolute_top_rate,
        *average_position, *overlap_rate, *position_above_rate, *outranking_share;
  } table_{};
};

}  // namespace adsim::engine
