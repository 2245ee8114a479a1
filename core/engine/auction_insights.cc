// Auction insights (auction_insights.h): the table's schema and the daily
// rows, computed from the day's cell counters and the insight counters.
// May not touch: anything but the table it added; it reads the run state.
#include "core/engine/auction_insights.h"

#include <cmath>

namespace adsim::engine {

namespace {

double Ratio(int64_t numerator, int64_t denominator) {
  return denominator > 0 ? static_cast<double>(numerator) / static_cast<double>(denominator) : std::nan("");
}

}  // namespace

AuctionInsights::AuctionInsights(const RunState& state, Results* results)
    : state_(state),
      num_channels_(state.num_channels),
      counters_(static_cast<size_t>(state.num_campaigns) * state.num_channels),
      targets_(static_cast<size_t>(state.num_campaigns) * state.num_channels, 0) {
  for (const ChannelSpec& channel : state.scenario.channels) top_slots_.push_back(TopOfPageSlots(channel));
  for (int channel_segment = 0; channel_segment < state.num_channels * state.num_segments; ++channel_segment)
    for (int e = state.eligible_offset[channel_segment]; e < state.eligible_offset[channel_segment + 1]; ++e)
      targets_[Index(state.eligible[e], channel_segment / state.num_segments)] = 1;
  Table& table = results->Add("auction_insights",
                              "Per day x campaign x channel: impression share, share lost to budget and to rank, "
                              "top-of-page rates, average position, overlap and outranking against the channel's "
                              "competitors (Google Ads' auction insights)");
  table_.day_start =
      &table.Int("day_start", "us", "simulated time of the day's start (midnight, or 0 for the first day)");
  table_.campaign = &table.Int("campaign", "index", "index into the campaigns table");
  table_.channel = &table.Int("channel", "index", "index into the channels table");
  table_.competitors = &table.Int("competitors", "count",
                                  "competing bidders on the channel (the competitor group the overlap, position-above "
                                  "and outranking columns compare with)");
  table_.eligible = &table.Int("eligible", "count",
                               "opportunities the campaign was eligible for: bid requests it received while active "
                               "(unpaused, with a creative, serving its experiment arm), including those it could "
                               "not bid on for budget");
  table_.impressions = &table.Int("impressions", "count", "impressions (slots won)");
  table_.lost_budget = &table.Int("lost_budget", "count",
                                  "eligible opportunities lost to a budget: nothing left to bid, or a bid cut by the "
                                  "remaining budget that then lost");
  table_.lost_rank = &table.Int("lost_rank", "count",
                                "eligible opportunities lost to rank: no bid (bidder declined, below the floor) or "
                                "outranked in the auction; eligible - impressions - lost_budget");
  table_.impression_share = &table.Real("impression_share", "ratio", "impressions / eligible (NaN if none eligible)");
  table_.lost_budget_share =
      &table.Real("lost_is_budget", "ratio", "lost_budget / eligible: impression share lost to budget");
  table_.lost_rank_share = &table.Real("lost_is_rank", "ratio", "lost_rank / eligible: impression share lost to rank");
  table_.top = &table.Int("top_impressions", "count", "impressions in a top-of-page slot (slotted channels)");
  table_.absolute_top =
      &table.Int("absolute_top_impressions", "count", "impressions in the first slot (slotted channels; 0 elsewhere)");
  table_.top_rate = &table.Real("top_rate", "ratio",
                                "top_impressions / impressions on slotted channels (GSP, slots > 1); NaN otherwise");
  table_.absolute_top_rate =
      &table.Real("absolute_top_rate", "ratio",
                  "absolute_top_impressions / impressions on slotted channels (GSP, slots > 1); NaN otherwise");
  table_.average_position =
      &table.Real("average_position", "slot", "mean 1-based slot of the impressions (NaN if none)");
  table_.overlap =
      &table.Int("overlap_impressions", "count", "impressions in auctions where a competitor's ad was also shown");
  table_.competitor_above =
      &table.Int("competitor_above", "count", "impressions with a competitor's ad shown in a higher slot");
  table_.overlap_rate = &table.Real("overlap_rate", "ratio", "overlap_impressions / impressions (NaN if none)");
  table_.position_above_rate =
      &table.Real("position_above_rate", "ratio",
                  "competitor_above / overlap_impressions: how often a competitor was shown above "
                  "the campaign when both were shown (NaN if no overlap)");
  table_.outranking_share =
      &table.Real("outranking_share", "ratio",
                  "(impressions - competitor_above) / eligible: how often the campaign was shown above the "
                  "competitors or shown when they were not");
}

void AuctionInsights::CloseDay(SimTime day_start) {
  for (int campaign = 0; campaign < state_.num_campaigns; ++campaign) {
    for (int channel = 0; channel < num_channels_; ++channel) {
      InsightCounters& counters = counters_[Index(campaign, channel)];
      if (!targets_[Index(campaign, channel)]) continue;
      int64_t eligible = 0, impressions = 0;
      for (int segment = 0; segment < state_.num_segments; ++segment) {
        const int channel_segment = state_.ChannelSegment(channel, segment);
        for (int creative = 0; creative < state_.num_creatives[campaign]; ++creative) {
          const int cell = state_.Cell(campaign, channel_segment, creative);
          eligible += state_.total[cell].requests - state_.day_base[cell].requests;
          impressions += state_.total[cell].wins - state_.day_base[cell].wins;
        }
      }
      const int64_t lost_rank = eligible - impressions - counters.lost_budget;
      const bool slotted = top_slots_[channel] > 0;
      table_.day_start->push_back(day_start);
      table_.campaign->push_back(campaign);
      table_.channel->push_back(channel);
      table_.competitors->push_back(state_.scenario.channels[channel].competitors);
      table_.eligible->push_back(eligible);
      table_.impressions->push_back(impressions);
      table_.lost_budget->push_back(counters.lost_budget);
      table_.lost_rank->push_back(lost_rank);
      table_.impression_share->push_back(Ratio(impressions, eligible));
      table_.lost_budget_share->push_back(Ratio(counters.lost_budget, eligible));
      table_.lost_rank_share->push_back(Ratio(lost_rank, eligible));
      table_.top->push_back(counters.top);
      table_.absolute_top->push_back(counters.absolute_top);
      table_.top_rate->push_back(slotted ? Ratio(counters.top, impressions) : std::nan(""));
      table_.absolute_top_rate->push_back(slotted ? Ratio(counters.absolute_top, impressions) : std::nan(""));
      table_.average_position->push_back(Ratio(counters.position_sum, impressions));
      table_.overlap->push_back(counters.overlap);
      table_.competitor_above->push_back(counters.competitor_above);
      table_.overlap_rate->push_back(Ratio(counters.overlap, impressions));
      table_.position_above_rate->push_back(Ratio(counters.competitor_above, counters.overlap));
      table_.outranking_share->push_back(Ratio(impressions - counters.competitor_above, eligible));
      counters = InsightCounters{};
    }
  }
}

}  // namespace adsim::engine
